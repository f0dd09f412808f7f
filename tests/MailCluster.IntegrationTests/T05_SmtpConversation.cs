using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T05: the edge over a raw socket, where the exact replies are the point: greeting, EHLO extensions,
/// sequencing from the state table, relay policy (554 5.7.1, and trusted networks), PIPELINING (one batch of
/// commands, replies in order), dot-unstuffing, and a bare LF ending the session with 521 and queueing nothing.
/// One node serves all cases (they are independent sessions).
/// </summary>
[ParallelScenario]
public sealed class T05_SmtpConversation : IAsyncLifetime
{
    private Scenario _scenario = null!;
    private NodeConfig _config = null!;

    public async ValueTask InitializeAsync()
    {
        _scenario = await Scenario.StartAsync();
        _config = _scenario.NewNodeConfig(new Dictionary<string, string>
        {
            // 127.0.0.2 is trusted; clients connecting from 127.0.0.1 are not.
            ["MailCluster__Smtp__TrustedNetworks__0"] = "127.0.0.2/32",
        });
        await _scenario.StartNodeAsync(_config);
    }

    public async ValueTask DisposeAsync() => await _scenario.DisposeAsync();

    [Fact]
    public async Task Greeting_ehlo_and_sequencing()
    {
        await using var client = await RawSmtpClient.ConnectAsync(_config.MxPort);
        Assert.StartsWith("220 mc.test ", await client.ReadReplyAsync(), StringComparison.Ordinal);

        await client.WriteAsync("MAIL FROM:<a@example.org>\r\n");
        Assert.StartsWith("503 5.5.1 ", await client.ReadReplyAsync(), StringComparison.Ordinal);

        await client.WriteAsync("EHLO client.example\r\n");
        var ehlo = await client.ReadReplyAsync();
        Assert.StartsWith("250-mc.test", ehlo, StringComparison.Ordinal);
        Assert.Contains("250-PIPELINING", ehlo, StringComparison.Ordinal);
        Assert.Contains("8BITMIME", ehlo, StringComparison.Ordinal);
        Assert.Contains("ENHANCEDSTATUSCODES", ehlo, StringComparison.Ordinal);

        await client.WriteAsync("RCPT TO:<x@relay.test>\r\n");
        Assert.StartsWith("503 5.5.1 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        await client.WriteAsync("DATA\r\n");
        Assert.StartsWith("503 5.5.1 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        await client.WriteAsync("FROB\r\n");
        Assert.StartsWith("500 5.5.2 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        await client.WriteAsync("MAIL FRM:<a@example.org>\r\n");
        Assert.StartsWith("501 5.5.4 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        await client.WriteAsync("MAIL FROM:<broken\r\n");
        Assert.StartsWith("553 5.1.7 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        await client.WriteAsync("NOOP\r\n");
        Assert.StartsWith("250 2.0.0 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        await client.WriteAsync("VRFY postmaster\r\n");
        Assert.StartsWith("252 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("502 5.5.1 ", await client.CommandAsync("EXPN staff"), StringComparison.Ordinal);
        Assert.StartsWith("214 ", await client.CommandAsync("HELP"), StringComparison.Ordinal);
        Assert.StartsWith("250 2.0.0 ", await client.CommandAsync("RSET"), StringComparison.Ordinal);
        await client.WriteAsync("QUIT\r\n");
        Assert.StartsWith("221 2.0.0 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Relay_to_other_domains_is_denied_for_untrusted_clients()
    {
        await using var client = await RawSmtpClient.ConnectAsync(_config.MxPort);
        await client.ReadReplyAsync();
        await client.WriteAsync("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<victim@elsewhere.example>\r\nRCPT TO:<ok@Relay.TEST>\r\n");
        await client.ReadReplyAsync();
        Assert.StartsWith("250 2.1.0", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("554 5.7.1 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("250 2.1.5", await client.ReadReplyAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trusted_network_may_relay_anywhere()
    {
        using var tcp = new System.Net.Sockets.TcpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("127.0.0.2"), 0));
        await tcp.ConnectAsync("127.0.0.1", _config.MxPort);
        using var reader = new StreamReader(tcp.GetStream());
        await using var writer = new StreamWriter(tcp.GetStream()) { NewLine = "\r\n", AutoFlush = true };
        await reader.ReadLineAsync();
        await writer.WriteAsync("HELO trusted.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<anyone@elsewhere.example>\r\n");
        Assert.StartsWith("250 ", await reader.ReadLineAsync(), StringComparison.Ordinal);
        Assert.StartsWith("250 2.1.0", await reader.ReadLineAsync(), StringComparison.Ordinal);
        Assert.StartsWith("250 2.1.5", await reader.ReadLineAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pipelined_transaction_is_answered_in_order_and_delivered_unstuffed()
    {
        await using var client = await RawSmtpClient.ConnectAsync(_config.MxPort);
        await client.ReadReplyAsync();
        await client.WriteAsync("EHLO client.example\r\n");
        await client.ReadReplyAsync();

        // RFC 2920: MAIL, RCPT and DATA in one write; the message text after the 354.
        await client.WriteAsync("MAIL FROM:<p@example.org> BODY=8BITMIME\r\nRCPT TO:<pipe@relay.test>\r\nDATA\r\n");
        Assert.StartsWith("250 2.1.0", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("250 2.1.5", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("354 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        await client.WriteAsync("Subject: pipelined\r\n\r\n..stuffed line\r\nlast\r\n.\r\nQUIT\r\n");
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("221 ", await client.ReadReplyAsync(), StringComparison.Ordinal);

        var received = await _scenario.Sink.WaitForRecipientAsync("pipe@relay.test", TimeSpan.FromSeconds(60));
        var text = System.Text.Encoding.UTF8.GetString(received.Data);
        Assert.EndsWith("\r\nSubject: pipelined\r\n\r\n.stuffed line\r\nlast\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bare_lf_in_a_command_ends_the_session()
    {
        await using var client = await RawSmtpClient.ConnectAsync(_config.MxPort);
        await client.ReadReplyAsync();
        await client.WriteAsync("EHLO client.example\nMAIL FROM:<a@example.org>\r\n");
        Assert.StartsWith("521 5.5.2 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Nul_in_a_command_is_refused()
    {
        await using var client = await RawSmtpClient.ConnectAsync(_config.MxPort);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.example");
        Assert.Matches("^5(01|53) ", await client.CommandAsync("MAIL FROM:<a\0b@example.org>"));
    }

    [Fact]
    public async Task Bare_lf_in_data_ends_the_session_and_queues_nothing()
    {
        await using var client = await RawSmtpClient.ConnectAsync(_config.MxPort);
        await client.ReadReplyAsync();
        await client.WriteAsync("EHLO client.example\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<smuggle@relay.test>\r\nDATA\r\n");
        for (var i = 0; i < 4; i++)
        {
            await client.ReadReplyAsync();
        }

        await client.WriteAsync("Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<smuggled@relay.test>\r\nDATA\r\nsmuggled\r\n.\r\n");
        Assert.StartsWith("521 5.5.2 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));

        // A control message sent afterwards arrives; nothing from the smuggling session does.
        await Scenario.SendAsync(_config.MxPort, Scenario.NewMessage("control@relay.test", "control"));
        await _scenario.Sink.WaitForRecipientAsync("control@relay.test", TimeSpan.FromSeconds(60));
        await QueueWait.UntilEmptyAsync(_config, "relay.test");
        Assert.DoesNotContain(_scenario.Sink.Messages, m => m.Recipients.Contains("smuggled@relay.test") || m.Recipients.Contains("smuggle@relay.test"));
    }
}
