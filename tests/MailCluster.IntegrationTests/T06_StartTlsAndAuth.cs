using System.Security.Authentication;
using System.Text;
using MailCluster.Edge.Auth;
using MailCluster.IntegrationTests.Infrastructure;
using MailKit.Net.Smtp;
using MailKit.Security;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T06: TLS and AUTH on the submission listeners (RFC 3207, RFC 4954, RFC 8314): AUTH never before TLS,
/// submission needs TLS then AUTH before MAIL, plaintext pipelined after STARTTLS is discarded
/// (CVE-2011-0411), the session resets after STARTTLS, senders are limited to the user's addresses, and
/// missing Message-ID/Date are added on submission.
/// </summary>
[ParallelScenario]
public sealed class T06_StartTlsAndAuth : IAsyncLifetime
{
    private const string Password = "correct horse battery staple";
    private Scenario _scenario = null!;
    private NodeConfig _config = null!;

    public async ValueTask InitializeAsync()
    {
        _scenario = await Scenario.StartAsync();
        _config = _scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Smtp__Users__0__Name"] = "alice",
            ["MailCluster__Smtp__Users__0__PasswordHash"] = PasswordHasher.Hash(Password, iterations: 1000),
            ["MailCluster__Smtp__Users__0__AllowedSenders__0"] = "alice@example.org",
            ["MailCluster__Smtp__AuthFailureDelayMilliseconds"] = "10",
            ["MailCluster__Smtp__MaxAuthFailures"] = "2",
            ["MailCluster__Smtp__ShowAuthenticatedUser"] = "true",
        });
        await _scenario.StartNodeAsync(_config);
    }

    public async ValueTask DisposeAsync() => await _scenario.DisposeAsync();

    private static string Plain(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

    [Fact]
    public async Task Submission_requires_starttls_then_auth()
    {
        await using var client = await RawSmtpClient.ConnectAsync(_config.SubmissionPort);
        await client.ReadReplyAsync();
        var ehlo = await client.CommandAsync("EHLO client.example");
        Assert.Contains("STARTTLS", ehlo, StringComparison.Ordinal);
        Assert.DoesNotContain("AUTH", ehlo, StringComparison.Ordinal);
        Assert.StartsWith("538 5.7.11 ", await client.CommandAsync("AUTH PLAIN " + Plain("alice", Password)), StringComparison.Ordinal);
        Assert.StartsWith("530 5.7.0 ", await client.CommandAsync("MAIL FROM:<alice@example.org>"), StringComparison.Ordinal);

        // Plaintext pipelined after STARTTLS must be thrown away, never executed inside TLS.
        await client.WriteAsync("STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n");
        Assert.StartsWith("220 2.0.0 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        await client.StartTlsAsync();
        Assert.True(client.Tls!.SslProtocol >= SslProtocols.Tls12);

        // The session was reset: EHLO again, STARTTLS no longer offered, AUTH now offered.
        Assert.StartsWith("503 5.5.1 ", await client.CommandAsync("MAIL FROM:<alice@example.org>"), StringComparison.Ordinal);
        var secureEhlo = await client.CommandAsync("EHLO client.example");
        Assert.DoesNotContain("STARTTLS", secureEhlo, StringComparison.Ordinal);
        Assert.Contains("AUTH PLAIN LOGIN", secureEhlo, StringComparison.Ordinal);
        Assert.StartsWith("503 5.5.1 ", await client.CommandAsync("STARTTLS"), StringComparison.Ordinal);
        Assert.StartsWith("530 5.7.0 ", await client.CommandAsync("MAIL FROM:<alice@example.org>"), StringComparison.Ordinal);

        Assert.StartsWith("535 5.7.8 ", await client.CommandAsync("AUTH PLAIN " + Plain("alice", "wrong")), StringComparison.Ordinal);
        Assert.StartsWith("334 ", await client.CommandAsync("AUTH LOGIN"), StringComparison.Ordinal);
        Assert.StartsWith("334 ", await client.CommandAsync(Convert.ToBase64String("alice"u8)), StringComparison.Ordinal);
        Assert.StartsWith("235 2.7.0 ", await client.CommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(Password))), StringComparison.Ordinal);
        Assert.StartsWith("503 5.5.1 ", await client.CommandAsync("AUTH PLAIN " + Plain("alice", Password)), StringComparison.Ordinal);

        Assert.StartsWith("553 5.7.1 ", await client.CommandAsync("MAIL FROM:<mallory@example.org>"), StringComparison.Ordinal);
        Assert.StartsWith("250 2.1.0 ", await client.CommandAsync("MAIL FROM:<alice@example.org>"), StringComparison.Ordinal);

        // Authenticated users may relay to any domain.
        Assert.StartsWith("250 2.1.5 ", await client.CommandAsync("RCPT TO:<friend@elsewhere.example>"), StringComparison.Ordinal);
        Assert.StartsWith("250 2.1.5 ", await client.CommandAsync("RCPT TO:<sub@relay.test>"), StringComparison.Ordinal);
        Assert.StartsWith("354 ", await client.CommandAsync("DATA"), StringComparison.Ordinal);
        Assert.StartsWith("250 2.0.0 ", await client.CommandAsync("Subject: no id, no date\r\n\r\nbody\r\n."), StringComparison.Ordinal);

        var received = await _scenario.Sink.WaitForRecipientAsync("sub@relay.test", TimeSpan.FromSeconds(60));
        var text = Encoding.UTF8.GetString(received.Data);
        Assert.Contains("with ESMTPSA (TLSv1.", text, StringComparison.Ordinal);
        Assert.Contains("(authenticated as alice)", text, StringComparison.Ordinal);
        Assert.Matches(@"\r\nMessage-ID: <[0-9A-F]{32}@mc\.test>\r\nDate: [^\r\n]+\r\nSubject: no id, no date\r\n\r\nbody\r\n\z", text);
        Assert.DoesNotContain("injected", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auth_failures_disconnect_after_the_limit()
    {
        await using var client = await RawSmtpClient.ConnectAsync(_config.SubmissionPort);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.example");
        await client.CommandAsync("STARTTLS");
        await client.StartTlsAsync();
        await client.CommandAsync("EHLO client.example");
        Assert.StartsWith("535 5.7.8 ", await client.CommandAsync("AUTH PLAIN " + Plain("alice", "guess1")), StringComparison.Ordinal);
        Assert.StartsWith("421 4.7.0 ", await client.CommandAsync("AUTH PLAIN " + Plain("nobody", "guess2")), StringComparison.Ordinal);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Mx_listener_offers_starttls_and_auth_only_inside_tls()
    {
        await using var client = await RawSmtpClient.ConnectAsync(_config.MxPort);
        await client.ReadReplyAsync();
        Assert.DoesNotContain("AUTH", await client.CommandAsync("EHLO client.example"), StringComparison.Ordinal);
        Assert.StartsWith("538 5.7.11 ", await client.CommandAsync("AUTH LOGIN"), StringComparison.Ordinal);
        await client.CommandAsync("STARTTLS");
        await client.StartTlsAsync();
        Assert.Contains("AUTH PLAIN LOGIN", await client.CommandAsync("EHLO client.example"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Implicit_tls_submission_with_mailkit()
    {
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await client.ConnectAsync("127.0.0.1", _config.SubmissionsPort, SecureSocketOptions.SslOnConnect);
        Assert.True(client.IsSecure);
        Assert.Contains("PLAIN", client.AuthenticationMechanisms);
        await client.AuthenticateAsync("alice", Password);
        var message = Scenario.NewMessage("implicit@relay.test", "T06 implicit TLS");
        message.From.Clear();
        message.From.Add(MimeKit.MailboxAddress.Parse("alice@example.org"));
        var reply = await client.SendAsync(Scenario.WireFormat, message);
        await client.DisconnectAsync(true);

        Assert.StartsWith("2.0.0 ", reply, StringComparison.Ordinal);
        var received = await _scenario.Sink.WaitForRecipientAsync("implicit@relay.test", TimeSpan.FromSeconds(60));
        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(message), received.Data);
    }

    [Fact]
    public async Task Implicit_tls_listener_still_requires_auth_before_mail()
    {
        await using var client = await RawSmtpClient.ConnectAsync(_config.SubmissionsPort, implicitTls: true);
        Assert.StartsWith("220 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        var ehlo = await client.CommandAsync("EHLO client.example");
        Assert.DoesNotContain("STARTTLS", ehlo, StringComparison.Ordinal);
        Assert.Contains("AUTH PLAIN LOGIN", ehlo, StringComparison.Ordinal);
        Assert.StartsWith("530 5.7.0 ", await client.CommandAsync("MAIL FROM:<alice@example.org>"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_below_1_2_is_refused()
    {
        await using var client = await RawSmtpClient.ConnectAsync(_config.MxPort);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.example");
        await client.CommandAsync("STARTTLS");
        await Assert.ThrowsAnyAsync<Exception>(() => client.StartTlsAsync(SslProtocols.Tls11 | SslProtocols.Tls));
    }
}
