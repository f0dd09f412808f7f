using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T18: six messages to one domain limited to one connection at a time and two messages per connection arrive over
/// fewer connections than messages: each connection carries up to two transactions (RSET between them), none more.
/// </summary>
[ParallelScenario]
public class T18_ConnectionReuse
{
    [Fact]
    public async Task Messages_share_connections_up_to_the_limit()
    {
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Outbound__Domains__0__Name"] = Scenario.RelayDomain,
            ["MailCluster__Outbound__Domains__0__MaxConnections"] = "1",
            ["MailCluster__Outbound__Domains__0__MessagesPerConnection"] = "2",
        });
        await scenario.StartNodeAsync(config);

        const int count = 6;
        var messages = Enumerable.Range(1, count).Select(i => Scenario.NewMessage($"u{i}@{Scenario.RelayDomain}", $"T18 #{i}")).ToList();
        await ScenarioMail.SendManyAsync(config.MxPort, messages);
        var received = await scenario.Sink.WaitForMessagesAsync(count, TimeSpan.FromSeconds(90));

        var perConnection = received.GroupBy(m => m.ConnectionId).Select(g => g.Count()).ToList();
        Assert.True(perConnection.Count < count, $"{count} messages over {perConnection.Count} connections");
        Assert.Contains(2, perConnection);
        Assert.All(perConnection, n => Assert.InRange(n, 1, 2));
        Assert.Equal(1, scenario.Sink.MaxConcurrentConnections);
        Assert.Equal(
            messages.Select(m => $"u{messages.IndexOf(m) + 1}@{Scenario.RelayDomain}").Order(),
            received.SelectMany(m => m.Recipients).Order());
    }
}
