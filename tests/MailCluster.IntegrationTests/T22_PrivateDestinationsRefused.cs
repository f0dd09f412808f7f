using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T22: without <c>MailCluster__Outbound__AllowPrivateDestinations</c>, an MX that resolves to a loopback address is
/// refused: no connection is made, the recipient fails permanently (5.4.4) and the sender gets a DSN — which itself
/// is delivered only because the test then routes the sender domain explicitly (routes may be private).
/// </summary>
[ParallelScenario]
public class T22_PrivateDestinationsRefused
{
    [Fact]
    public async Task Loopback_mx_is_not_contacted()
    {
        await using var scenario = await Scenario.StartAsync();
        var env = new Dictionary<string, string>
        {
            ["MailCluster__Outbound__AllowPrivateDestinations"] = "false",
            ["MailCluster__Outbound__Domains__0__Name"] = Scenario.SenderDomain,
            ["MailCluster__Outbound__Domains__0__Route"] = $"smtp:127.0.0.1:{scenario.Sink.Port}",
        };
        var config = scenario.NewNodeConfig(env);
        await scenario.StartNodeAsync(config);
        string sender = $"gail@{Scenario.SenderDomain}";

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"hank@{Scenario.RelayDomain}", "T22", sender));
        var dsn = await scenario.Sink.WaitForDsnAsync(sender, TimeSpan.FromSeconds(60));

        var recipient = dsn.Recipient($"hank@{Scenario.RelayDomain}");
        Assert.Equal("5.4.4", recipient["Status"]);
        Assert.Contains("AllowPrivateDestinations", recipient["Diagnostic-Code"], StringComparison.Ordinal);
        Assert.Equal(1, scenario.Sink.ConnectionCount); // The DSN's; none toward relay.test.
    }
}
