using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>T13: amx.test has no MX, only an A record: RFC 5321 §5.1's implicit MX delivers to that address.</summary>
[ParallelScenario]
public class T13_NoMxUsesAddressRecord
{
    [Fact]
    public async Task Delivered_to_the_domain_address()
    {
        await using var scenario = await Scenario.StartAsync([DnsmasqServer.HostRecord("amx.test", "127.0.0.1")]);
        var config = scenario.NewNodeConfig(ScenarioMail.RelayDomains("amx.test"));
        var node = await scenario.StartNodeAsync(config);

        var message = Scenario.NewMessage("carol@amx.test", "T13");
        await Scenario.SendAsync(config.MxPort, message);
        var received = await scenario.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(["carol@amx.test"], received.Recipients);
        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(message), received.Data);
        await node.WaitForLogAsync("amx.test[127.0.0.1]", TimeSpan.FromSeconds(10));
    }
}
