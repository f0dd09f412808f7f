using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T21: routed.test has no DNS records at all; a per-domain route <c>smtp:127.0.0.1:PORT</c> sends its mail to the
/// sink as a smarthost, without any MX lookup. A domain without a route still goes by MX.
/// </summary>
[ParallelScenario]
public class T21_SmarthostRoute
{
    [Fact]
    public async Task Routed_domain_goes_to_the_smarthost()
    {
        await using var scenario = await Scenario.StartAsync();
        var env = ScenarioMail.RelayDomains("routed.test");
        env["MailCluster__Outbound__Domains__0__Name"] = "routed.test";
        env["MailCluster__Outbound__Domains__0__Route"] = $"smtp:127.0.0.1:{scenario.Sink.Port}";
        env["MailCluster__Outbound__Port"] = "1"; // MX delivery would go nowhere: only the route can reach the sink.
        var config = scenario.NewNodeConfig(env);
        await scenario.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage("frank@routed.test", "T21"));
        var received = await scenario.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(["frank@routed.test"], received.Recipients);
    }
}
