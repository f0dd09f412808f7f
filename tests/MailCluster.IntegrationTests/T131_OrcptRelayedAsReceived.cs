using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T131 (#17, ORCPT fidelity, RFC 3461 §4.2, §5.2.1, §6.2): the RFC 3461 parameters a client gives at the edge reach a
/// next hop that offers DSN as the client wrote them: ENVID and RET on MAIL, NOTIFY and the ORCPT as received on RCPT,
/// an optional hex escape ("+41" for "A", which no re-encoder would reproduce) included. The next hop refuses one
/// recipient; its bounce names the original recipient xtext-decoded (RFC 3464 §2.3.1: Original-Recipient carries the
/// ORCPT's address-type and the address decoded from xtext), beside the recipient the next hop accepted.
/// </summary>
[ParallelScenario]
public class T131_OrcptRelayedAsReceived
{
    [Fact]
    public async Task Orcpt_notify_ret_and_envid_reach_the_next_hop_as_received_and_the_bounce_names_the_original_recipient()
    {
        var sink = new ScriptedSmtpServer(hostName: "mx1.relay.test")
        {
            // Fixed keywords, so that the MAIL line holds exactly the client's parameters (no SIZE; an ASCII body needs no BODY).
            Extensions = ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN"],
        };
        sink.RefuseRecipient($"b@{Scenario.RelayDomain}", $"550 5.1.1 <b@{Scenario.RelayDomain}>: no such user");
        await using var scenario = await Scenario.StartAsync([DnsmasqServer.Mx("client.test", "mx1.relay.test", 10)], sink);
        var config = scenario.NewNodeConfig();
        await scenario.StartNodeAsync(config);

        await using (var client = await RawSmtpClient.ConnectAsync(config.MxPort))
        {
            await client.ReadReplyAsync();
            await client.CommandAsync("EHLO client.test");
            Assert.StartsWith("250 ", await client.CommandAsync("MAIL FROM:<s@client.test> RET=HDRS ENVID=Q+51+2Bid"), StringComparison.Ordinal);
            Assert.StartsWith("250 ", await client.CommandAsync($"RCPT TO:<a@{Scenario.RelayDomain}> NOTIFY=FAILURE,DELAY ORCPT=rfc822;Original+2Bxtext@example.com"), StringComparison.Ordinal);
            Assert.StartsWith("250 ", await client.CommandAsync($"RCPT TO:<b@{Scenario.RelayDomain}> NOTIFY=FAILURE ORCPT=rfc822;A+41B@example.com"), StringComparison.Ordinal);
            await client.CommandAsync("DATA");
            Assert.StartsWith("250 2.0.0 ", await client.CommandAsync($"Subject: T131\r\nMessage-ID: <{Guid.NewGuid():N}@t131>\r\n\r\nbody\r\n."), StringComparison.Ordinal);
        }

        var dsn = await sink.WaitForDsnAsync("s@client.test", TimeSpan.FromSeconds(60));

        var commands = sink.CommandLines;
        Assert.Equal("MAIL FROM:<s@client.test> ENVID=Q+51+2Bid RET=HDRS", commands.First(c => c.StartsWith("MAIL FROM:<s@", StringComparison.Ordinal)));
        Assert.Equal(
            [
                $"RCPT TO:<a@{Scenario.RelayDomain}> NOTIFY=FAILURE,DELAY ORCPT=rfc822;Original+2Bxtext@example.com",
                $"RCPT TO:<b@{Scenario.RelayDomain}> NOTIFY=FAILURE ORCPT=rfc822;A+41B@example.com",
            ],
            commands.Where(c => c.StartsWith("RCPT TO:<a@", StringComparison.Ordinal) || c.StartsWith("RCPT TO:<b@", StringComparison.Ordinal)));
        var delivered = sink.Messages.Single(m => m.MailFrom == "s@client.test");
        Assert.Equal([$"a@{Scenario.RelayDomain}"], delivered.Recipients);

        Assert.Equal("QQ+id", dsn.PerMessage["Original-Envelope-Id"]);
        // Only the refused recipient is reported: the accepted one asked for no SUCCESS notice, and its next hop offers DSN.
        var refused = Assert.Single(dsn.PerRecipient, g => g.Count > 0);
        Assert.Equal($"rfc822; b@{Scenario.RelayDomain}", refused["Final-Recipient"]);
        Assert.Equal("rfc822;AAB@example.com", refused["Original-Recipient"]?.Trim());
        Assert.Equal("failed", refused["Action"]);
        Assert.Equal("5.1.1", refused["Status"]);
        Assert.Equal($"smtp; 550 5.1.1 <b@{Scenario.RelayDomain}>: no such user", refused["Diagnostic-Code"]);
    }
}
