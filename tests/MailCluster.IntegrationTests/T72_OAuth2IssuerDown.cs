using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using MailKit.Security;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T72: the OAuth issuer is unreachable. Before the node has its keys, AUTH XOAUTH2/OAUTHBEARER answers 454 4.7.0 (a
/// temporary failure, not counted as a bad password) promptly, and succeeds as soon as the issuer is back. Once the keys
/// are cached, the issuer going down does not stop tokens signed with them; a token with a key id the node has not seen
/// is 454 then, since its key cannot be fetched.
/// </summary>
[ParallelScenario]
public sealed class T72_OAuth2IssuerDown : IAsyncLifetime
{
    private const string Audience = "smtp.mc.test";
    private Scenario _scenario = null!;
    private OAuthIssuer _issuer = null!;
    private NodeConfig _config = null!;

    public async ValueTask InitializeAsync()
    {
        _issuer = await OAuthIssuer.StartAsync();
        await _issuer.GoDownAsync();
        _scenario = await Scenario.StartAsync();
        _config = _scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Smtp__OAuth__Authority"] = _issuer.Authority,
            ["MailCluster__Smtp__OAuth__Audience"] = Audience,
            ["MailCluster__Smtp__OAuth__RequireHttpsMetadata"] = "false",
            ["MailCluster__Smtp__MaxAuthFailures"] = "1",
        });
        await _scenario.StartNodeAsync(_config);
    }

    public async ValueTask DisposeAsync()
    {
        await _scenario.DisposeAsync();
        await _issuer.DisposeAsync();
    }

    [Fact]
    public async Task Unreachable_issuer_is_a_temporary_failure()
    {
        var token = _issuer.IssueToken("alice@example.org", Audience, scope: null);
        await using (var smtp = await OAuthSubmission.ConnectAsync(_config.SubmissionsPort))
        {
            var started = DateTime.UtcNow;
            Assert.NotNull(await smtp.TryAuthenticateAsync(new SaslMechanismOAuth2("alice@example.org", token)));
            Assert.Contains("S: 454 4.7.0 ", smtp.Log, StringComparison.Ordinal);
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), "bounded by the metadata timeout");

            // Not an authentication failure: with MaxAuthFailures=1 a 535 would have closed the session; this one goes on.
            Assert.NotNull(await smtp.TryAuthenticateAsync(new SaslMechanismOAuthBearer("alice@example.org", token)));
            Assert.Equal(2, CountOf(smtp.Log, "S: 454 4.7.0 "));
            await _issuer.ComeUpAsync();
            Assert.Null(await smtp.TryAuthenticateAsync(new SaslMechanismOAuthBearer("alice@example.org", token)));
        }

        // Keys cached: the issuer's absence no longer matters for them, only for a key the node has never seen.
        await _issuer.GoDownAsync();
        await using (var smtp = await OAuthSubmission.ConnectAsync(_config.SubmissionsPort))
        {
            Assert.Null(await smtp.TryAuthenticateAsync(new SaslMechanismOAuth2("alice@example.org", token)));
        }

        _issuer.RotateKey();
        await using (var smtp = await OAuthSubmission.ConnectAsync(_config.SubmissionsPort))
        {
            Assert.NotNull(await smtp.TryAuthenticateAsync(new SaslMechanismOAuth2("alice@example.org", _issuer.IssueToken("alice@example.org", Audience, scope: null))));
            Assert.Contains("S: 454 4.7.0 ", smtp.Log, StringComparison.Ordinal);
        }
    }

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;
}
