using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T62 (#17, outbound gaps through a real node): a next hop whose STARTTLS handshake breaks gets the message in
/// clear on a second connection (opportunistic TLS, as Postfix's "may"); and the client's RFC 3461 parameters given
/// at the edge reach a next hop that offers DSN, on the wire as the sink received them.
/// </summary>
[ParallelScenario]
public class T62_StartTlsFallbackAndDsnRelay
{
    [Fact]
    public async Task A_broken_starttls_handshake_is_retried_in_clear_on_the_same_mx()
    {
        var sink = new ScriptedSmtpServer(enableStartTls: true, hostName: "mx1.relay.test") { BreakStartTls = true };
        await using var scenario = await Scenario.StartAsync([], sink);
        var config = scenario.NewNodeConfig();
        var node = await scenario.StartNodeAsync(config);

        var message = Scenario.NewMessage($"erin@{Scenario.RelayDomain}", "T62 fallback");
        await Scenario.SendAsync(config.MxPort, message);
        var received = await sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));

        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(message), received.Data);
        Assert.Equal(2, received.ConnectionId);
        await node.WaitForLogAsync("status=sent", TimeSpan.FromSeconds(10));
        Assert.Contains("retrying in clear text (opportunistic TLS)", node.Log, StringComparison.Ordinal);
        var commands = sink.CommandLines;
        Assert.Single(commands, c => c == "STARTTLS");
        Assert.Single(commands, c => c.StartsWith("MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Notify_ret_envid_and_orcpt_reach_a_next_hop_that_offers_dsn()
    {
        var sink = new ScriptedSmtpServer(hostName: "mx1.relay.test");
        sink.Extensions = [.. sink.Extensions, "DSN"];
        await using var scenario = await Scenario.StartAsync([], sink);
        var config = scenario.NewNodeConfig();
        await scenario.StartNodeAsync(config);

        await using (var client = await RawSmtpClient.ConnectAsync(config.MxPort))
        {
            await client.ReadReplyAsync();
            await client.CommandAsync("EHLO client.example");
            Assert.StartsWith("250 ", await client.CommandAsync("MAIL FROM:<ann@senders.test> RET=HDRS ENVID=T62+2Benv"), StringComparison.Ordinal);
            Assert.StartsWith("250 ", await client.CommandAsync($"RCPT TO:<ok@{Scenario.RelayDomain}> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;ok@{Scenario.RelayDomain}"), StringComparison.Ordinal);
            Assert.StartsWith("250 ", await client.CommandAsync($"RCPT TO:<plain@{Scenario.RelayDomain}>"), StringComparison.Ordinal);
            await client.CommandAsync("DATA");
            Assert.StartsWith("250 2.0.0 ", await client.CommandAsync($"Subject: T62 dsn\r\nMessage-ID: <{Guid.NewGuid():N}@t62>\r\n\r\nbody\r\n."), StringComparison.Ordinal);
        }

        await sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));
        var commands = sink.CommandLines;
        Assert.Matches(@"^MAIL FROM:<ann@senders\.test>( SIZE=\d+)?( BODY=8BITMIME)? ENVID=T62\+2Benv RET=HDRS$", commands.Single(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
        Assert.Equal(
            [$"RCPT TO:<ok@{Scenario.RelayDomain}> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;ok@{Scenario.RelayDomain}", $"RCPT TO:<plain@{Scenario.RelayDomain}>"],
            commands.Where(c => c.StartsWith("RCPT", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }
}
