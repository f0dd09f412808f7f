using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T12: nullmx.test publishes a null MX (RFC 7505 "0 ."). The recipient fails at once, without any connection
/// attempt and without a retry (long retry interval configured), and the sender gets a DSN with 5.1.10 / 556.
/// </summary>
[ParallelScenario]
public class T12_NullMxBouncedAtOnce
{
    [Fact]
    public async Task Bounced_without_connecting()
    {
        await using var scenario = await Scenario.StartAsync([DnsmasqServer.NullMx("nullmx.test")]);
        var env = ScenarioMail.RelayDomains("nullmx.test");
        env["MailCluster__Retry__InitialSeconds"] = "3600";
        env["MailCluster__Retry__MaxSeconds"] = "3600";
        var config = scenario.NewNodeConfig(env);
        await scenario.StartNodeAsync(config);
        string sender = $"ann@{Scenario.SenderDomain}";

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage("bob@nullmx.test", "T12", sender));
        var dsn = await scenario.Sink.WaitForDsnAsync(sender, TimeSpan.FromSeconds(30));

        var recipient = dsn.Recipient("bob@nullmx.test");
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.1.10", recipient["Status"]);
        Assert.StartsWith("smtp; 556 5.1.10", recipient["Diagnostic-Code"], StringComparison.Ordinal);
        Assert.Null(recipient["Remote-MTA"]);

        // The one connection the sink saw carried the DSN; nothing was sent toward nullmx.test.
        Assert.Equal(1, scenario.Sink.ConnectionCount);
        Assert.DoesNotContain(scenario.Sink.Messages, m => m.Recipients.Any(r => r.EndsWith("@nullmx.test", StringComparison.Ordinal)));
    }
}
