using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T11: every MX of dead.test refuses connections. The recipient is retried (the whole destination backs off and
/// probes between attempts), and once the message is older than the maximum age (6 s here) it expires and the
/// sender at senders.test gets a "failed" DSN carrying the last transient status.
/// </summary>
public class T11_EveryMxDownBouncedAtMaxAge
{
    [Fact]
    public async Task Retried_then_bounced_to_the_sender()
    {
        await using var scenario = await Scenario.StartAsync(
        [
            DnsmasqServer.Mx("dead.test", "mx-a.dead.test", 10),
            DnsmasqServer.HostRecord("mx-a.dead.test", "127.0.0.2"),
            DnsmasqServer.Mx("dead.test", "mx-b.dead.test", 20),
            DnsmasqServer.HostRecord("mx-b.dead.test", "127.0.0.3"),
        ]);
        var env = ScenarioMail.RelayDomains("dead.test");
        env["MailCluster__Retry__InitialSeconds"] = "1";
        env["MailCluster__Retry__MaxSeconds"] = "2";
        env["MailCluster__Retry__MaxAgeSeconds"] = "6";
        var config = scenario.NewNodeConfig(env);
        var node = await scenario.StartNodeAsync(config);
        string sender = $"alice@{Scenario.SenderDomain}";

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage("bob@dead.test", "T11", sender));
        var dsn = await scenario.Sink.WaitForDsnAsync(sender, TimeSpan.FromSeconds(60));

        var recipient = dsn.Recipient("bob@dead.test");
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("4.4.1", recipient["Status"]);
        Assert.Equal("dns; mc.test", dsn.PerMessage["Reporting-MTA"]);
        int attempts = CountOccurrences(node.Log, "failed at connection level");
        Assert.True(attempts >= 2, $"expected several attempts before expiry, saw {attempts}");
        Assert.Single(scenario.Sink.Messages); // Only the DSN reached a server.
    }

    private static int CountOccurrences(string text, string value)
    {
        int count = 0;
        for (int i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
