using System.Text;
using MailCluster.Edge.Auth;
using MailCluster.Edge.Session;
using MailCluster.Edge.Tests.Auth;
using Xunit;

namespace MailCluster.Edge.Tests.Session;

/// <summary>The session's side of XOAUTH2 and OAUTHBEARER: offered only with OAuth configured and only inside TLS;
/// a rejected token gets the error challenge, then 535 (counted like a wrong password); an unreachable issuer 454.</summary>
public class BearerAuthSessionTests
{
    private static OAuthTokenValidator Validator(InProcessIssuer issuer) =>
        new(new OAuthOptions { Authority = InProcessIssuer.Authority, Audience = InProcessIssuer.Audience }, new UserDirectory([]), issuer);

    private static string XOAuth2(string user, string token) =>
        "AUTH XOAUTH2 " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"user={user}\u0001auth=Bearer {token}\u0001\u0001"));

    [Fact]
    public async Task Without_oauth_no_bearer_mechanism_is_offered_or_accepted()
    {
        var harness = new SessionHarness(implicitTls: true);
        var ehlo = (await harness.SendAsync("EHLO client.test")).Reply.ToString();
        Assert.Contains("AUTH PLAIN LOGIN", ehlo, StringComparison.Ordinal);
        Assert.DoesNotContain("XOAUTH2", ehlo, StringComparison.Ordinal);
        Assert.Equal(504, (await harness.SendAsync(XOAuth2("alice@example.org", "t"))).Reply.Code);
    }

    [Fact]
    public async Task Oauth_without_password_users_offers_only_the_bearer_mechanisms()
    {
        var issuer = new InProcessIssuer();
        var harness = new SessionHarness(implicitTls: true, oauth: Validator(issuer), withUsers: false);
        var ehlo = (await harness.SendAsync("EHLO client.test")).Reply.ToString();
        Assert.Contains("AUTH XOAUTH2 OAUTHBEARER", ehlo, StringComparison.Ordinal);
        Assert.DoesNotContain("PLAIN", ehlo, StringComparison.Ordinal);
        Assert.Equal(504, (await harness.SendAsync("AUTH PLAIN AGFubgBzZWNyZXQtMQ==")).Reply.Code);
        Assert.Equal(235, (await harness.SendAsync(XOAuth2("alice@example.org", issuer.Token()))).Reply.Code);
        Assert.Equal(250, (await harness.SendAsync("MAIL FROM:<alice@example.org>")).Reply.Code);
    }

    [Fact]
    public async Task Before_tls_bearer_auth_is_538()
    {
        var harness = new SessionHarness(oauth: Validator(new InProcessIssuer()));
        Assert.DoesNotContain("AUTH", (await harness.SendAsync("EHLO client.test")).Reply.ToString(), StringComparison.Ordinal);
        Assert.Equal((538, "5.7.11"), Code(await harness.SendAsync("AUTH OAUTHBEARER")));
    }

    [Fact]
    public async Task Rejected_token_is_challenge_then_535_and_counts_as_a_failure()
    {
        var issuer = new InProcessIssuer();
        var harness = new SessionHarness(implicitTls: true, oauth: Validator(issuer), maxAuthFailures: 2);
        await harness.SendAsync("EHLO client.test");
        var expired = issuer.Token(lifetime: TimeSpan.FromMinutes(-5));

        var challenge = await harness.SendAsync(XOAuth2("alice@example.org", expired));
        Assert.Equal((334, SessionAction.ReadAuthLine), (challenge.Reply.Code, challenge.Action));
        Assert.Equal("""{"status":"401","schemes":"bearer"}""", BearerChallenge.Decode(challenge.Reply.Text));
        Assert.Equal((535, "5.7.8"), Code(await harness.Session.HandleAsync(new SessionAuthLine(string.Empty))));

        Assert.Equal(334, (await harness.SendAsync(XOAuth2("mallory@example.org", issuer.Token()))).Reply.Code);
        var last = await harness.Session.HandleAsync(new SessionAuthLine("AQ=="));
        Assert.Equal((421, SessionAction.Close), (last.Reply.Code, last.Action));
    }

    [Fact]
    public async Task Unreachable_issuer_is_454_and_not_counted()
    {
        var issuer = new InProcessIssuer { Down = true };
        var harness = new SessionHarness(implicitTls: true, oauth: Validator(issuer), maxAuthFailures: 1);
        await harness.SendAsync("EHLO client.test");
        Assert.Equal((454, "4.7.0"), Code(await harness.SendAsync(XOAuth2("alice@example.org", issuer.Token()))));
        Assert.Equal((454, "4.7.0"), Code(await harness.SendAsync(XOAuth2("alice@example.org", issuer.Token()))));
        issuer.Down = false;
        Assert.Equal(235, (await harness.SendAsync(XOAuth2("alice@example.org", issuer.Token()))).Reply.Code);
    }

    private static (int, string) Code(SessionReply reply) => (reply.Reply.Code, reply.Reply.EnhancedCode);
}
