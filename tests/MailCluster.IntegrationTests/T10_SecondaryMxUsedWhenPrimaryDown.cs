using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T10: two.test has MX 10 → 127.0.0.2 (nothing listens: connection refused) and MX 20 → 127.0.0.1 (the sink).
/// RFC 5321 §5.1: the primary's failure moves on to the secondary in the same attempt, so the message arrives
/// at the first try, over one accepted connection.
/// </summary>
[ParallelScenario]
public class T10_SecondaryMxUsedWhenPrimaryDown
{
    [Fact]
    public async Task Delivered_through_the_secondary_in_the_first_attempt()
    {
        await using var scenario = await Scenario.StartAsync(
        [
            DnsmasqServer.Mx("two.test", "mx-a.two.test", 10),
            DnsmasqServer.HostRecord("mx-a.two.test", "127.0.0.2"),
            DnsmasqServer.Mx("two.test", "mx-b.two.test", 20),
            DnsmasqServer.HostRecord("mx-b.two.test", "127.0.0.1"),
        ]);
        var config = scenario.NewNodeConfig(ScenarioMail.RelayDomains("two.test"));
        var node = await scenario.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage("bob@two.test", "T10"));
        var received = await scenario.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(["bob@two.test"], received.Recipients);
        Assert.Single(scenario.Sink.DataAttempts);
        Assert.Equal(1, scenario.Sink.ConnectionCount);
        await node.WaitForLogAsync("mx-b.two.test[127.0.0.1]", TimeSpan.FromSeconds(10));
        Assert.Contains("mx-a.two.test[127.0.0.2]", node.Log, StringComparison.Ordinal);
    }
}
