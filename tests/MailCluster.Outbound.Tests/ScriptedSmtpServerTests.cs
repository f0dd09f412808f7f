using MailCluster.Testing;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace MailCluster.Outbound.Tests;

/// <summary>The fake itself, driven by a real client (MailKit).</summary>
public sealed class ScriptedSmtpServerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static MimeMessage Message(string subject = "hi")
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("ann@origin.test"));
        message.To.Add(MailboxAddress.Parse("bob@example.test"));
        message.Cc.Add(MailboxAddress.Parse("carol@example.test"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "line one\n.line with a dot\n" };
        return message;
    }

    private static async Task<SmtpClient> ConnectAsync(ScriptedSmtpServer server, SecureSocketOptions tls = SecureSocketOptions.None)
    {
        // The fake's self-signed certificate is trusted by name only.
        var client = new SmtpClient { ServerCertificateValidationCallback = (_, cert, _, _) => cert?.Subject == $"CN={server.HostName}" };
        await client.ConnectAsync("127.0.0.1", server.Port, tls);
        return client;
    }

    [Fact]
    public async Task Records_a_pipelined_transaction_with_unstuffed_bytes()
    {
        await using var server = new ScriptedSmtpServer();
        using var client = await ConnectAsync(server);
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Pipelining));
        await client.SendAsync(Message());
        await client.DisconnectAsync(true);

        var received = await server.WaitForMessageAsync(Wait);
        Assert.Equal("ann@origin.test", received.MailFrom);
        Assert.Equal(["bob@example.test", "carol@example.test"], received.Recipients);
        string text = System.Text.Encoding.ASCII.GetString(received.Data);
        Assert.Contains("\r\n.line with a dot\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\r\n.\r\n", text, StringComparison.Ordinal);
        Assert.Equal(1, server.ConnectionCount);
    }

    [Fact]
    public async Task RefuseDataEnd_answers_the_first_attempts_and_records_every_DATA()
    {
        await using var server = new ScriptedSmtpServer();
        server.RefuseDataEnd(1, "451 4.3.0 try later");
        using var client = await ConnectAsync(server);

        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message()));
        Assert.Equal(451, (int)refused.StatusCode);
        await client.SendAsync(Message("again"));

        Assert.Single(await server.WaitForMessagesAsync(1, Wait));
        Assert.Equal(2, server.DataAttempts.Count);
    }

    [Fact]
    public async Task Responder_sees_the_recipient_and_can_refuse_it()
    {
        await using var server = new ScriptedSmtpServer
        {
            Responder = (stage, ctx) => stage == SmtpStage.Rcpt && ctx.Recipient == "carol@example.test" ? "550 5.1.1 no such user" : null,
        };
        using var client = await ConnectAsync(server);
        var e = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message()));
        Assert.Equal(SmtpErrorCode.RecipientNotAccepted, e.ErrorCode);
        Assert.Empty(server.Messages);
    }

    [Fact]
    public async Task HangUpAt_drops_the_connection()
    {
        await using var server = new ScriptedSmtpServer();
        server.HangUpAt(SmtpStage.Mail);
        using var client = await ConnectAsync(server);
        await Assert.ThrowsAnyAsync<Exception>(() => client.SendAsync(Message()));
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task Counts_simultaneous_connections()
    {
        await using var server = new ScriptedSmtpServer();
        var clients = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ConnectAsync(server)));
        await Task.WhenAll(clients.Select(c => c.NoOpAsync()));
        Assert.Equal(3, server.ConnectionCount);
        Assert.Equal(3, server.MaxConcurrentConnections);
        foreach (var client in clients)
        {
            await client.DisconnectAsync(true);
            client.Dispose();
        }
    }

    [Fact]
    public async Task StartTls_upgrades_the_session()
    {
        await using var server = new ScriptedSmtpServer(enableStartTls: true);
        using var client = await ConnectAsync(server, SecureSocketOptions.StartTls);
        Assert.True(client.IsSecure);
        await client.SendAsync(Message());
        Assert.Single(await server.WaitForMessagesAsync(1, Wait));
    }

    [Fact]
    public async Task WaitForMessages_times_out_with_what_was_received()
    {
        await using var server = new ScriptedSmtpServer();
        using var client = await ConnectAsync(server);
        await client.SendAsync(Message());
        var e = await Assert.ThrowsAsync<TimeoutException>(() => server.WaitForMessagesAsync(2, TimeSpan.FromMilliseconds(300)));
        Assert.Contains("received 1", e.Message, StringComparison.Ordinal);
    }
}
