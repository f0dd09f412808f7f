using MailCluster.Edge.Auth;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

/// <summary>
/// <see cref="OAuthTokenValidator"/> against an in-process issuer (an <see cref="HttpMessageHandler"/> that answers the
/// discovery and JWKS requests; T70-T72 do the same over real sockets): each check of the token, the user claim and its
/// senders, key rollover, and an issuer that is down or hangs.
/// </summary>
public class OAuthTokenValidatorTests
{
    private const string Authority = InProcessIssuer.Authority;
    private const string Audience = InProcessIssuer.Audience;
    private static readonly string[] Scopes = ["mail.read", "smtp.send"];

    private static OAuthTokenValidator Validator(InProcessIssuer issuer, string? scope = "smtp.send", UserDirectory? users = null, string userClaim = "email") =>
        new(new OAuthOptions { Authority = Authority, Audience = Audience, Scope = scope, UserClaim = userClaim }, users ?? new UserDirectory([]), issuer);

    [Fact]
    public async Task Valid_token_names_its_email_as_user_and_sender()
    {
        var issuer = new InProcessIssuer();
        var verdict = await Validator(issuer).ValidateAsync("Alice@Example.org", issuer.Token(), CancellationToken.None);
        Assert.Equal(BearerOutcome.Accepted, verdict.Outcome);
        Assert.Equal("alice@example.org", verdict.User!.Name);
        Assert.Equal(["alice@example.org"], verdict.User.AllowedSenders);
    }

    [Fact]
    public async Task Without_a_sasl_user_the_claim_is_the_user()
    {
        var issuer = new InProcessIssuer();
        var verdict = await Validator(issuer).ValidateAsync(null, issuer.Token(email: "bob@example.org"), CancellationToken.None);
        Assert.Equal("bob@example.org", verdict.User?.Name);
    }

    [Fact]
    public async Task A_configured_user_of_the_same_name_adds_its_senders()
    {
        var configured = new SmtpUserOptions { Name = "ALICE@example.org", PasswordHash = PasswordHasher.Hash("x", 1) };
        configured.AllowedSenders.Add("team.example.org");
        var issuer = new InProcessIssuer();
        var verdict = await Validator(issuer, users: new UserDirectory([configured])).ValidateAsync(null, issuer.Token(), CancellationToken.None);
        Assert.Equal(["alice@example.org", "team.example.org"], verdict.User!.AllowedSenders);
    }

    [Fact]
    public async Task A_claim_that_is_not_an_address_allows_no_sender()
    {
        var issuer = new InProcessIssuer();
        var token = issuer.Token(claims: new() { ["preferred_username"] = "example.org" });
        var verdict = await Validator(issuer, userClaim: "preferred_username").ValidateAsync("example.org", token, CancellationToken.None);
        Assert.Equal(BearerOutcome.Accepted, verdict.Outcome);
        Assert.Empty(verdict.User!.AllowedSenders);
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("audience")]
    [InlineData("issuer")]
    [InlineData("user")]
    [InlineData("no-email")]
    [InlineData("unverified")]
    [InlineData("forged")]
    [InlineData("garbage")]
    public async Task Flawed_tokens_are_rejected_as_invalid_token(string flaw)
    {
        var issuer = new InProcessIssuer();
        var token = flaw switch
        {
            "expired" => issuer.Token(lifetime: TimeSpan.FromMinutes(-5)),
            "audience" => issuer.Token(audience: "other"),
            "issuer" => issuer.Token(iss: "https://evil.test"),
            "user" => issuer.Token(email: "mallory@example.org"),
            "no-email" => issuer.Token(email: null),
            "unverified" => issuer.Token(claims: new() { ["email_verified"] = false }),
            "forged" => new InProcessIssuer().Token(), // same kid scheme, another key: unknown kid, refetch, still unknown
            _ => "not.a.jwt",
        };

        var verdict = await Validator(issuer).ValidateAsync("alice@example.org", token, CancellationToken.None);
        Assert.Equal((BearerOutcome.Rejected, BearerVerdict.InvalidToken), (verdict.Outcome, verdict.Status));
    }

    [Theory]
    [InlineData("openid profile", false)]
    [InlineData("openid smtp.send", true)]
    [InlineData("smtp.sender", false)]
    public async Task The_required_scope_must_be_granted(string scope, bool accepted)
    {
        var issuer = new InProcessIssuer();
        var verdict = await Validator(issuer).ValidateAsync(null, issuer.Token(scope: scope), CancellationToken.None);
        Assert.Equal(accepted ? BearerOutcome.Accepted : BearerOutcome.Rejected, verdict.Outcome);
        Assert.Equal(accepted ? string.Empty : BearerVerdict.InsufficientScope, verdict.Status);
    }

    [Fact]
    public async Task Scp_array_claim_counts_as_scope()
    {
        var issuer = new InProcessIssuer();
        var token = issuer.Token(scope: null, claims: new() { ["scp"] = Scopes });
        Assert.Equal(BearerOutcome.Accepted, (await Validator(issuer).ValidateAsync(null, token, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Key_rollover_refetches_once_then_holds_off()
    {
        var issuer = new InProcessIssuer();
        var validator = Validator(issuer);
        Assert.Equal(BearerOutcome.Accepted, (await validator.ValidateAsync(null, issuer.Token(), CancellationToken.None)).Outcome);
        issuer.Rotate();
        Assert.Equal(BearerOutcome.Accepted, (await validator.ValidateAsync(null, issuer.Token(), CancellationToken.None)).Outcome);
        Assert.Equal(2, issuer.DiscoveryRequests);
        issuer.Rotate();
        Assert.Equal(BearerOutcome.Rejected, (await validator.ValidateAsync(null, issuer.Token(), CancellationToken.None)).Outcome);
        Assert.Equal(2, issuer.DiscoveryRequests);
    }

    [Fact]
    public async Task Issuer_down_is_unavailable_and_recovers()
    {
        var issuer = new InProcessIssuer { Down = true };
        var validator = Validator(issuer);
        Assert.Equal(BearerOutcome.Unavailable, (await validator.ValidateAsync(null, issuer.Token(), CancellationToken.None)).Outcome);
        issuer.Down = false;
        Assert.Equal(BearerOutcome.Accepted, (await validator.ValidateAsync(null, issuer.Token(), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Hanging_issuer_is_unavailable_within_the_bound()
    {
        var issuer = new InProcessIssuer { Hang = true };
        var started = DateTime.UtcNow;
        var verdict = await Validator(issuer).ValidateAsync(null, issuer.Token(), CancellationToken.None);
        Assert.Equal(BearerOutcome.Unavailable, verdict.Outcome);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, OAuthTokenValidator.FetchTimeout * 2 + TimeSpan.FromSeconds(3));
    }
}
