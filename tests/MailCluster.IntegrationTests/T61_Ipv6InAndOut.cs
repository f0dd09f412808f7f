using System.Net;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using MailKit.Net.Smtp;
using MailKit.Security;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T61 (#17): IPv6 on both sides of a real node. A client connects to the node's MX port over ::1 (the listeners bind
/// the IPv6 wildcard by default), and the recipient domain's only MX has only an AAAA record, ::1, where the sink
/// listens: the message arrives over IPv6, and the node's log names the [::1] next hop.
/// </summary>
[ParallelScenario]
public class T61_Ipv6InAndOut
{
    private const string Domain = "v6.test";

    [Fact]
    public async Task A_message_comes_in_over_ipv6_and_goes_out_over_ipv6()
    {
        var sink = new ScriptedSmtpServer(hostName: "mx1.v6.test", bind: IPAddress.IPv6Loopback);
        await using var scenario = await Scenario.StartAsync(
            [DnsmasqServer.Mx(Domain, "mx1.v6.test", 10), DnsmasqServer.HostRecord("mx1.v6.test", "::1")], sink);
        var config = scenario.NewNodeConfig(new Dictionary<string, string> { ["MailCluster__Domains__Relay__1"] = Domain });
        var node = await scenario.StartNodeAsync(config);

        var message = Scenario.NewMessage($"ivy@{Domain}", "T61 over ::1");
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("::1", config.MxPort, SecureSocketOptions.None, TestContext.Current.CancellationToken);
            await client.SendAsync(Scenario.WireFormat, message, TestContext.Current.CancellationToken);
            await client.DisconnectAsync(true, TestContext.Current.CancellationToken);
        }

        var received = await sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));
        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(message), received.Data);
        string trace = System.Text.Encoding.ASCII.GetString(received.Data, 0, 200);
        Assert.Contains("([IPv6:::1])", trace, StringComparison.Ordinal);
        Assert.Equal([$"ivy@{Domain}"], received.Recipients);
        await node.WaitForLogAsync("status=sent", TimeSpan.FromSeconds(10));
        Assert.Contains("mx1.v6.test[::1]", node.Log, StringComparison.Ordinal);
    }
}
