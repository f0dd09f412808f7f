using MailCluster.Outbound.OAuth;
using MailCluster.Testing;
using Microsoft.Extensions.Time.Testing;

namespace MailCluster.Outbound.Tests.OAuth;

/// <summary>OAuthTokenSource against a real token endpoint on loopback; time is a fake clock so refreshes are exact.</summary>
public sealed class OAuthTokenSourceTests : IDisposable
{
    private readonly string _secretFile = Path.GetTempFileName();
    private readonly HttpClient _http = new();

    public OAuthTokenSourceTests() => File.WriteAllText(_secretFile, "s3cret\n");

    public void Dispose()
    {
        File.Delete(_secretFile);
        _http.Dispose();
    }

    private OAuthClientOptions Options(OAuthTokenEndpoint endpoint, string? refreshTokenFile = null) => new()
    {
        TokenEndpoint = endpoint.Url,
        ClientId = "mailcluster",
        ClientSecretFile = _secretFile,
        RefreshTokenFile = refreshTokenFile,
        Scope = "https://mail.example/",
        RefreshBeforeExpirySeconds = 60,
    };

    [Fact]
    public async Task Caches_the_token_and_replaces_it_before_it_expires()
    {
        await using var endpoint = await OAuthTokenEndpoint.StartAsync("mailcluster", "s3cret");
        endpoint.Lifetime = TimeSpan.FromMinutes(10);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var source = new OAuthTokenSource(Options(endpoint), _http, clock);

        var first = await source.GetAsync(CancellationToken.None);
        Assert.Equal("at-1", first.Value);
        var request = Assert.Single(endpoint.Requests);
        Assert.Equal("client_credentials", request["grant_type"]);
        Assert.Equal("s3cret", request["client_secret"]); // the file's line end is not part of the secret
        Assert.Equal("https://mail.example/", request["scope"]);

        clock.Advance(TimeSpan.FromMinutes(8.9));
        Assert.Equal("at-1", (await source.GetAsync(CancellationToken.None)).Value);
        clock.Advance(TimeSpan.FromMinutes(0.1)); // 60 s before expiry
        Assert.Equal("at-2", (await source.GetAsync(CancellationToken.None)).Value);
        Assert.Equal(2, source.Requests);
    }

    [Fact]
    public async Task Connections_opening_together_share_one_request()
    {
        await using var endpoint = await OAuthTokenEndpoint.StartAsync("mailcluster", "s3cret");
        var source = new OAuthTokenSource(Options(endpoint), _http, TimeProvider.System);
        var tokens = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => source.GetAsync(CancellationToken.None)));
        Assert.All(tokens, t => Assert.Equal("at-1", t.Value));
        Assert.Single(endpoint.Requests);
    }

    [Fact]
    public async Task A_failing_endpoint_is_an_OAuthTokenException_and_the_next_call_asks_again()
    {
        await using var endpoint = await OAuthTokenEndpoint.StartAsync("mailcluster", "s3cret");
        var source = new OAuthTokenSource(Options(endpoint), _http, TimeProvider.System);
        endpoint.Failing = true;
        var e = await Assert.ThrowsAsync<OAuthTokenException>(() => source.GetAsync(CancellationToken.None));
        Assert.Contains("503", e.Message, StringComparison.Ordinal);

        endpoint.Failing = false;
        Assert.Equal("at-1", (await source.GetAsync(CancellationToken.None)).Value);
    }

    [Fact]
    public async Task A_wrong_secret_or_a_closed_port_is_an_OAuthTokenException()
    {
        await using var endpoint = await OAuthTokenEndpoint.StartAsync("mailcluster", "other");
        var source = new OAuthTokenSource(Options(endpoint), _http, TimeProvider.System);
        Assert.Contains("401", (await Assert.ThrowsAsync<OAuthTokenException>(() => source.GetAsync(CancellationToken.None))).Message, StringComparison.Ordinal);

        var closed = new OAuthTokenSource(new OAuthClientOptions { TokenEndpoint = $"http://127.0.0.1:{FreePort.Tcp()}/token", ClientId = "x", ClientSecretFile = _secretFile }, _http, TimeProvider.System);
        await Assert.ThrowsAsync<OAuthTokenException>(() => closed.GetAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_refresh_token_grant_sends_the_files_refresh_token_and_a_rejected_token_is_not_reused()
    {
        var refreshFile = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(refreshFile, "rt-1");
            await using var endpoint = await OAuthTokenEndpoint.StartAsync("mailcluster", "s3cret", refreshToken: "rt-1");
            var source = new OAuthTokenSource(Options(endpoint, refreshFile), _http, TimeProvider.System);
            var token = await source.GetAsync(CancellationToken.None);
            Assert.Equal(("refresh_token", "rt-1"), (endpoint.Requests[0]["grant_type"], endpoint.Requests[0]["refresh_token"]));

            token.Reject();
            Assert.Equal("at-2", (await source.GetAsync(CancellationToken.None)).Value);
        }
        finally
        {
            File.Delete(refreshFile);
        }
    }

    [Fact]
    public void Configuration_problems_name_their_keys()
    {
        var options = new OutboundOptions { Smarthost = "smtp:127.0.0.1:2525", SmarthostOAuth = new OAuthClientOptions { TokenEndpoint = "http://example.com/token" } };
        var problems = SmarthostOAuth.Problems(options);
        Assert.Contains(problems, p => p.StartsWith("MailCluster:Outbound:SmarthostOAuth:TokenEndpoint", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("MailCluster:Outbound:SmarthostOAuth:ClientId", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("user name", StringComparison.Ordinal));
    }

    [Fact]
    public void Routes_use_their_own_block_the_default_smarthost_its_block_and_MX_none()
    {
        var own = new OAuthClientOptions { TokenEndpoint = "https://a.example/token", ClientId = "a", ClientSecretFile = _secretFile };
        var options = new OutboundOptions
        {
            Smarthost = "smtp:127.0.0.1:2525",
            SmarthostUsername = "relay@example.com",
            SmarthostOAuth = new OAuthClientOptions { TokenEndpoint = "https://b.example/token", ClientId = "b", ClientSecretFile = _secretFile },
        };
        options.Domains.Add(new DomainOutboundOptions { Name = "own.example", Route = "smtp:127.0.0.1:2526", Username = "u@own.example", OAuth = own });
        options.Domains.Add(new DomainOutboundOptions { Name = "mx.example", Route = "mx" });
        var oauth = new SmarthostOAuth(options, _http, TimeProvider.System);

        Assert.NotNull(oauth.For("own.example"));
        Assert.NotSame(oauth.For("own.example"), oauth.For("anything.example"));
        Assert.Same(oauth.For("anything.example"), oauth.For("other.example"));
        Assert.Null(oauth.For("mx.example"));
        Assert.Null(new SmarthostOAuth(new OutboundOptions(), _http, TimeProvider.System).For("anything.example"));
    }
}
