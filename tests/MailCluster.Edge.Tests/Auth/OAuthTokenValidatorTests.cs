using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MailCluster.Edge.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

/// <summary>
/// <see cref="OAuthTokenValidator"/> against an in-process issuer (an <see cref="HttpMessageHandler"/> that answers the
/// discovery and JWKS requests; T70-T72 do the same over real sockets): each check of the token, the user claim and its
/// senders, key rollover, and an issuer that is down or hangs.
/// </summary>
public class OAuthTokenValidatorTests
{
    private const string Authority = "https://issuer.test";
    private const string Audience = "smtp";
    private static readonly string[] Scopes = ["mail.read", "smtp.send"];

    private static OAuthTokenValidator Validator(Issuer issuer, string? scope = "smtp.send", UserDirectory? users = null, string userClaim = "email") =>
        new(new OAuthOptions { Authority = Authority, Audience = Audience, Scope = scope, UserClaim = userClaim }, users ?? new UserDirectory([]), issuer);

    [Fact]
    public async Task Valid_token_names_its_email_as_user_and_sender()
    {
        var issuer = new Issuer();
        var verdict = await Validator(issuer).ValidateAsync("Alice@Example.org", issuer.Token(), CancellationToken.None);
        Assert.Equal(BearerOutcome.Accepted, verdict.Outcome);
        Assert.Equal("alice@example.org", verdict.User!.Name);
        Assert.Equal(["alice@example.org"], verdict.User.AllowedSenders);
    }

    [Fact]
    public async Task Without_a_sasl_user_the_claim_is_the_user()
    {
        var issuer = new Issuer();
        var verdict = await Validator(issuer).ValidateAsync(null, issuer.Token(email: "bob@example.org"), CancellationToken.None);
        Assert.Equal("bob@example.org", verdict.User?.Name);
    }

    [Fact]
    public async Task A_configured_user_of_the_same_name_adds_its_senders()
    {
        var configured = new SmtpUserOptions { Name = "ALICE@example.org", PasswordHash = PasswordHasher.Hash("x", 1) };
        configured.AllowedSenders.Add("team.example.org");
        var issuer = new Issuer();
        var verdict = await Validator(issuer, users: new UserDirectory([configured])).ValidateAsync(null, issuer.Token(), CancellationToken.None);
        Assert.Equal(["alice@example.org", "team.example.org"], verdict.User!.AllowedSenders);
    }

    [Fact]
    public async Task A_claim_that_is_not_an_address_allows_no_sender()
    {
        var issuer = new Issuer();
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
        var issuer = new Issuer();
        var token = flaw switch
        {
            "expired" => issuer.Token(lifetime: TimeSpan.FromMinutes(-5)),
            "audience" => issuer.Token(audience: "other"),
            "issuer" => issuer.Token(iss: "https://evil.test"),
            "user" => issuer.Token(email: "mallory@example.org"),
            "no-email" => issuer.Token(email: null),
            "unverified" => issuer.Token(claims: new() { ["email_verified"] = false }),
            "forged" => new Issuer().Token(), // same kid scheme, another key: unknown kid, refetch, still unknown
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
        var issuer = new Issuer();
        var verdict = await Validator(issuer).ValidateAsync(null, issuer.Token(scope: scope), CancellationToken.None);
        Assert.Equal(accepted ? BearerOutcome.Accepted : BearerOutcome.Rejected, verdict.Outcome);
        Assert.Equal(accepted ? string.Empty : BearerVerdict.InsufficientScope, verdict.Status);
    }

    [Fact]
    public async Task Scp_array_claim_counts_as_scope()
    {
        var issuer = new Issuer();
        var token = issuer.Token(scope: null, claims: new() { ["scp"] = Scopes });
        Assert.Equal(BearerOutcome.Accepted, (await Validator(issuer).ValidateAsync(null, token, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Key_rollover_refetches_once_then_holds_off()
    {
        var issuer = new Issuer();
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
        var issuer = new Issuer { Down = true };
        var validator = Validator(issuer);
        Assert.Equal(BearerOutcome.Unavailable, (await validator.ValidateAsync(null, issuer.Token(), CancellationToken.None)).Outcome);
        issuer.Down = false;
        Assert.Equal(BearerOutcome.Accepted, (await validator.ValidateAsync(null, issuer.Token(), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Hanging_issuer_is_unavailable_within_the_bound()
    {
        var issuer = new Issuer { Hang = true };
        var started = DateTime.UtcNow;
        var verdict = await Validator(issuer).ValidateAsync(null, issuer.Token(), CancellationToken.None);
        Assert.Equal(BearerOutcome.Unavailable, verdict.Outcome);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, OAuthTokenValidator.FetchTimeout * 2 + TimeSpan.FromSeconds(3));
    }

    /// <summary>Discovery and JWKS of <see cref="Authority"/>, in process; signs tokens with its current key.</summary>
    private sealed class Issuer : HttpMessageHandler
    {
        private RsaSecurityKey _key = NewKey();
        private int _discovery;

        public bool Down { get; set; }

        public bool Hang { get; set; }

        public int DiscoveryRequests => Volatile.Read(ref _discovery);

        public void Rotate() => _key = NewKey();

        public string Token(string? email = "alice@example.org", string audience = Audience, string? scope = "smtp.send", TimeSpan? lifetime = null, string iss = Authority, Dictionary<string, object>? claims = null)
        {
            var now = DateTime.UtcNow;
            var expires = now + (lifetime ?? TimeSpan.FromMinutes(5));
            var all = new Dictionary<string, object>(claims ?? []);
            if (email is not null)
            {
                all["email"] = email;
            }

            if (scope is not null)
            {
                all["scope"] = scope;
            }

            return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
            {
                Issuer = iss,
                Audience = audience,
                NotBefore = expires.AddHours(-1),
                IssuedAt = expires.AddHours(-1),
                Expires = expires,
                Claims = all,
                SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
            });
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Hang)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (Down)
            {
                throw new HttpRequestException("Connection refused");
            }

            var json = request.RequestUri!.AbsolutePath switch
            {
                "/.well-known/openid-configuration" => Discovery(),
                "/jwks" => Jwks(),
                _ => null,
            };
            return json is null
                ? new HttpResponseMessage(HttpStatusCode.NotFound)
                : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        }

        private static RsaSecurityKey NewKey() => new(RSA.Create(2048)) { KeyId = Guid.NewGuid().ToString("N") };

        private string Discovery()
        {
            Interlocked.Increment(ref _discovery);
            return JsonSerializer.Serialize(new Dictionary<string, string> { ["issuer"] = Authority, ["jwks_uri"] = Authority + "/jwks" });
        }

        private string Jwks()
        {
            var p = _key.Rsa.ExportParameters(false);
            return JsonSerializer.Serialize(new
            {
                keys = new[] { new { kty = "RSA", use = "sig", kid = _key.KeyId, n = Base64UrlEncoder.Encode(p.Modulus!), e = Base64UrlEncoder.Encode(p.Exponent!) } },
            });
        }
    }
}
