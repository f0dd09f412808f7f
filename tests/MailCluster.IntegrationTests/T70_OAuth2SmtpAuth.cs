using System.Text;
using MailCluster.Edge.Auth;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using MailKit.Net.Smtp;
using MailKit.Security;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T70: AUTH XOAUTH2 and OAUTHBEARER (RFC 7628) with MailKit's own mechanisms against a node whose OAuth issuer is a
/// real local OpenID Connect server: a valid token sends mail as its email claim (and as what a configured user of
/// that name may use); expired, wrong-audience, wrong-user and scope-less tokens get the error challenge with its JSON
/// status, then 535 5.7.8; no bearer mechanism before TLS (538); malformed messages 501.
/// </summary>
[ParallelScenario]
public sealed class T70_OAuth2SmtpAuth : IAsyncLifetime
{
    private const string Audience = "smtp.mc.test";
    private const string Scope = "smtp.send";
    private Scenario _scenario = null!;
    private OAuthIssuer _issuer = null!;
    private NodeConfig _config = null!;

    public async ValueTask InitializeAsync()
    {
        _issuer = await OAuthIssuer.StartAsync();
        _scenario = await Scenario.StartAsync();
        _config = _scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Smtp__OAuth__Authority"] = _issuer.Authority,
            ["MailCluster__Smtp__OAuth__Audience"] = Audience,
            ["MailCluster__Smtp__OAuth__Scope"] = Scope,
            ["MailCluster__Smtp__OAuth__RequireHttpsMetadata"] = "false",
            // A configured user whose name is a token's email: its configured senders come with the token.
            ["MailCluster__Smtp__Users__0__Name"] = "carol@example.org",
            ["MailCluster__Smtp__Users__0__PasswordHash"] = PasswordHasher.Hash("unused password", iterations: 1000),
            ["MailCluster__Smtp__Users__0__AllowedSenders__0"] = "team.example.org",
            ["MailCluster__Smtp__AuthFailureDelayMilliseconds"] = "10",
            ["MailCluster__Smtp__MaxAuthFailures"] = "2",
            ["MailCluster__Smtp__ShowAuthenticatedUser"] = "true",
        });
        await _scenario.StartNodeAsync(_config);
    }

    public async ValueTask DisposeAsync()
    {
        await _scenario.DisposeAsync();
        await _issuer.DisposeAsync();
    }

    [Fact]
    public async Task Xoauth2_token_sends_as_its_email_and_nothing_else()
    {
        var token = _issuer.IssueToken("alice@example.org", Audience, "openid " + Scope);
        await using var smtp = await OAuthSubmission.ConnectAsync(_config.SubmissionsPort);
        Assert.Contains("XOAUTH2", smtp.Client.AuthenticationMechanisms);
        Assert.Contains("OAUTHBEARER", smtp.Client.AuthenticationMechanisms);
        Assert.Null(await smtp.TryAuthenticateAsync(new SaslMechanismOAuth2("alice@example.org", token)));
        Assert.Contains("S: 235 2.7.0 ", smtp.Log, StringComparison.Ordinal);

        var message = Scenario.NewMessage("oauth@relay.test", "T70 XOAUTH2", from: "alice@example.org");
        Assert.StartsWith("2.0.0 ", await smtp.Client.SendAsync(Scenario.WireFormat, message), StringComparison.Ordinal);
        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() =>
            smtp.Client.SendAsync(Scenario.NewMessage("oauth@relay.test", "T70 not mine", from: "bob@example.org")));
        Assert.Equal(553, (int)refused.StatusCode);

        var received = await _scenario.Sink.WaitForRecipientAsync("oauth@relay.test", TimeSpan.FromSeconds(60));
        Assert.Contains("(authenticated as alice@example.org)", Encoding.UTF8.GetString(received.Data), StringComparison.Ordinal);
        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(message), received.Data);
    }

    [Fact]
    public async Task Oauthbearer_token_of_a_configured_user_sends_as_its_configured_domain_too()
    {
        var token = _issuer.IssueToken("carol@example.org", Audience, Scope);
        await using var smtp = await OAuthSubmission.ConnectAsync(_config.SubmissionsPort);
        Assert.Null(await smtp.TryAuthenticateAsync(new SaslMechanismOAuthBearer("carol@example.org", token)));

        Assert.StartsWith("2.0.0 ", await smtp.Client.SendAsync(Scenario.NewMessage("carol@relay.test", "T70 own", from: "carol@example.org")), StringComparison.Ordinal);
        Assert.StartsWith("2.0.0 ", await smtp.Client.SendAsync(Scenario.NewMessage("team@relay.test", "T70 team", from: "news@team.example.org")), StringComparison.Ordinal);
        await _scenario.Sink.WaitForRecipientAsync("team@relay.test", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_long_token_fits_the_auth_command_line_but_other_commands_keep_their_limit()
    {
        // Azure AD access tokens run to several kilobytes; in XOAUTH2 on the AUTH line they pass the 2048-octet command line.
        var token = _issuer.IssueToken("alice@example.org", Audience, Scope, claims: new Dictionary<string, object> { ["pad"] = new string('x', 3000) });
        var xoauth2 = Convert.ToBase64String(Encoding.UTF8.GetBytes($"user=alice@example.org\u0001auth=Bearer {token}\u0001\u0001"));
        Assert.InRange(xoauth2.Length, 4096, 12000);
        await using var client = await RawSmtpClient.ConnectAsync(_config.SubmissionsPort, implicitTls: true);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.example");
        Assert.StartsWith("500 5.5.6 ", await client.CommandAsync("NOOP " + new string('x', 3000)), StringComparison.Ordinal);
        Assert.StartsWith("235 2.7.0 ", await client.CommandAsync("AUTH XOAUTH2 " + xoauth2), StringComparison.Ordinal);

        await using var smtp = await OAuthSubmission.ConnectAsync(_config.SubmissionsPort);
        Assert.Null(await smtp.TryAuthenticateAsync(new SaslMechanismOAuthBearer("alice@example.org", token)));
    }

    [Theory]
    [InlineData("expired", "invalid_token")]
    [InlineData("audience", "invalid_token")]
    [InlineData("user", "invalid_token")]
    [InlineData("scope", "insufficient_scope")]
    [InlineData("issuer", "invalid_token")]
    public async Task Bad_tokens_get_the_error_challenge_then_535(string flaw, string status)
    {
        var token = flaw switch
        {
            "expired" => _issuer.IssueToken("alice@example.org", Audience, Scope, lifetime: TimeSpan.FromMinutes(-10)),
            "audience" => _issuer.IssueToken("alice@example.org", "other-service", Scope),
            "user" => _issuer.IssueToken("mallory@example.org", Audience, Scope),
            "scope" => _issuer.IssueToken("alice@example.org", Audience, "openid profile"),
            _ => _issuer.IssueToken("alice@example.org", Audience, Scope, issuer: "https://evil.test"),
        };

        // OAUTHBEARER: RFC 7628 status codes; the client acknowledges with %x01.
        await using (var smtp = await OAuthSubmission.ConnectAsync(_config.SubmissionsPort))
        {
            Assert.IsType<AuthenticationException>(await smtp.TryAuthenticateAsync(new SaslMechanismOAuthBearer("alice@example.org", token)));
            var challenge = smtp.ErrorChallenge();
            Assert.Equal(status, challenge.GetProperty("status").GetString());
            Assert.Equal("bearer", challenge.GetProperty("schemes").GetString());
            Assert.Equal(Scope, challenge.GetProperty("scope").GetString());
            Assert.Contains("S: 535 5.7.8 ", smtp.Log, StringComparison.Ordinal);
        }

        // XOAUTH2: Google's shape, an HTTP status; the client acknowledges with an empty line.
        await using (var smtp = await OAuthSubmission.ConnectAsync(_config.SubmissionsPort))
        {
            Assert.IsType<AuthenticationException>(await smtp.TryAuthenticateAsync(new SaslMechanismOAuth2("alice@example.org", token)));
            Assert.Equal(status == "insufficient_scope" ? "403" : "401", smtp.ErrorChallenge().GetProperty("status").GetString());
            Assert.Contains("S: 535 5.7.8 ", smtp.Log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Failed_tokens_count_towards_the_auth_failure_limit()
    {
        var expired = _issuer.IssueToken("alice@example.org", Audience, Scope, lifetime: TimeSpan.FromMinutes(-10));
        var xoauth2 = Convert.ToBase64String(Encoding.UTF8.GetBytes($"user=alice@example.org\u0001auth=Bearer {expired}\u0001\u0001"));
        await using var client = await RawSmtpClient.ConnectAsync(_config.SubmissionsPort, implicitTls: true);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.example");
        Assert.StartsWith("334 eyJ", await client.CommandAsync("AUTH XOAUTH2 " + xoauth2), StringComparison.Ordinal);
        Assert.StartsWith("535 5.7.8 ", await client.CommandAsync(string.Empty), StringComparison.Ordinal);
        Assert.StartsWith("334 eyJ", await client.CommandAsync("AUTH XOAUTH2 " + xoauth2), StringComparison.Ordinal);
        Assert.StartsWith("421 4.7.0 ", await client.CommandAsync(string.Empty), StringComparison.Ordinal);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task No_bearer_mechanism_before_tls_and_malformed_messages_are_501()
    {
        var token = _issuer.IssueToken("alice@example.org", Audience, Scope);
        var xoauth2 = Convert.ToBase64String(Encoding.UTF8.GetBytes($"user=alice@example.org\u0001auth=Bearer {token}\u0001\u0001"));
        await using var client = await RawSmtpClient.ConnectAsync(_config.SubmissionPort);
        await client.ReadReplyAsync();
        Assert.DoesNotContain("AUTH", await client.CommandAsync("EHLO client.example"), StringComparison.Ordinal);
        Assert.StartsWith("538 5.7.11 ", await client.CommandAsync("AUTH XOAUTH2 " + xoauth2), StringComparison.Ordinal);
        Assert.StartsWith("538 5.7.11 ", await client.CommandAsync("AUTH OAUTHBEARER"), StringComparison.Ordinal);

        await client.CommandAsync("STARTTLS");
        await client.StartTlsAsync();
        Assert.Contains("AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER", await client.CommandAsync("EHLO client.example"), StringComparison.Ordinal);
        var noTerminator = Convert.ToBase64String(Encoding.UTF8.GetBytes($"user=alice@example.org\u0001auth=Bearer {token}"));
        Assert.StartsWith("501 5.5.2 ", await client.CommandAsync("AUTH XOAUTH2 " + noTerminator), StringComparison.Ordinal);
        Assert.Equal("334", (await client.CommandAsync("AUTH OAUTHBEARER")).TrimEnd());
        Assert.StartsWith("501 5.5.2 ", await client.CommandAsync(Convert.ToBase64String("x,a=alice,\u0001auth=Bearer t\u0001\u0001"u8)), StringComparison.Ordinal);

        // The same connection still authenticates with a good message.
        Assert.StartsWith("235 2.7.0 ", await client.CommandAsync("AUTH XOAUTH2 " + xoauth2), StringComparison.Ordinal);
    }
}
