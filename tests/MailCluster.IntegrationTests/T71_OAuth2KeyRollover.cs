using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using MailKit.Security;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T71, over https with the default <c>RequireHttpsMetadata=true</c> (the issuer's certificate comes from a test CA the
/// node trusts through <c>SSL_CERT_FILE</c>): the issuer rolls to a new signing key. A token with the new key id, unknown to the node's cached JWKS, makes
/// the node refetch the discovery document and JWKS once and is then accepted; another unknown key id right after is
/// refused without a further fetch (at most one forced refetch per 30 s, so made-up key ids cannot flood the issuer).
/// </summary>
[ParallelScenario]
public sealed class T71_OAuth2KeyRollover : IAsyncLifetime
{
    private const string Audience = "smtp.mc.test";
    private Scenario _scenario = null!;
    private TestCertificateAuthority _ca = null!;
    private OAuthIssuer _issuer = null!;
    private NodeConfig _config = null!;

    public async ValueTask InitializeAsync()
    {
        _scenario = await Scenario.StartAsync();
        _ca = new TestCertificateAuthority(_scenario.DataDir);
        _issuer = await OAuthIssuer.StartAsync(_ca.IssueLoopbackServerCertificate());
        Assert.StartsWith("https://", _issuer.Authority, StringComparison.Ordinal);
        _config = _scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["SSL_CERT_FILE"] = _ca.RootPemPath,
            ["MailCluster__Smtp__OAuth__Authority"] = _issuer.Authority,
            ["MailCluster__Smtp__OAuth__Audience"] = Audience,
            ["MailCluster__Smtp__AuthFailureDelayMilliseconds"] = "10",
        });
        await _scenario.StartNodeAsync(_config);
    }

    public async ValueTask DisposeAsync()
    {
        await _scenario.DisposeAsync();
        await _issuer.DisposeAsync();
        _ca.Dispose();
    }

    [Fact]
    public async Task Unknown_key_id_is_accepted_once_the_jwks_is_refetched()
    {
        Assert.Null(await AuthenticateAsync(_issuer.IssueToken("alice@example.org", Audience, scope: null)));
        Assert.Equal(1, _issuer.MetadataRequests);

        var oldKey = _issuer.KeyId;
        _issuer.RotateKey();
        Assert.NotEqual(oldKey, _issuer.KeyId);
        Assert.Null(await AuthenticateAsync(_issuer.IssueToken("alice@example.org", Audience, scope: null)));
        Assert.Equal(2, _issuer.MetadataRequests);

        // Tokens of the new key keep working from the cache.
        Assert.Null(await AuthenticateAsync(_issuer.IssueToken("alice@example.org", Audience, scope: null)));
        Assert.Equal(2, _issuer.MetadataRequests);

        _issuer.RotateKey();
        Assert.IsType<AuthenticationException>(await AuthenticateAsync(_issuer.IssueToken("alice@example.org", Audience, scope: null)));
        Assert.Equal(2, _issuer.MetadataRequests);
    }

    private async Task<Exception?> AuthenticateAsync(string token)
    {
        await using var smtp = await OAuthSubmission.ConnectAsync(_config.SubmissionsPort);
        return await smtp.TryAuthenticateAsync(new SaslMechanismOAuth2("alice@example.org", token));
    }
}
