using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T19: relay.test is limited to 2 concurrent connections, one message each, and the sink is slow to answer the
/// end of DATA. Ten messages are delivered while the sink never sees more than two connections at once, and it
/// does see two (the cap, not the load, is what limits).
/// </summary>
[ParallelScenario]
public class T19_ConcurrencyCapNeverExceeded
{
    [Fact]
    public async Task At_most_two_connections_at_once()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.AddRule((stage, _) =>
        {
            if (stage == SmtpStage.DataEnd)
            {
                Thread.Sleep(400);
            }

            return null;
        });
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Outbound__Domains__0__Name"] = Scenario.RelayDomain,
            ["MailCluster__Outbound__Domains__0__MaxConnections"] = "2",
            ["MailCluster__Outbound__Domains__0__MessagesPerConnection"] = "1",
        });
        await scenario.StartNodeAsync(config);

        const int count = 10;
        await ScenarioMail.SendManyAsync(config.MxPort,
            Enumerable.Range(1, count).Select(i => Scenario.NewMessage($"c{i}@{Scenario.RelayDomain}", $"T19 #{i}")));
        await scenario.Sink.WaitForMessagesAsync(count, TimeSpan.FromSeconds(90));

        Assert.Equal(2, scenario.Sink.MaxConcurrentConnections);
        Assert.Equal(count, scenario.Sink.ConnectionCount);
    }
}
