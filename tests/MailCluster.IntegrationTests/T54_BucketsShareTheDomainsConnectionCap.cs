using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T54 (issue #13): relay.test is split into 4 buckets (four domain queues) and its destination allows 2 connections
/// (<c>MailCluster__Outbound__MaxConnectionsPerDomain=2</c>). The sink is slow to answer the end of DATA, so every
/// bucket wants connections at once; the buckets share the domain's cap, so the sink never sees more than 2 sessions
/// open at once (each bucket shaping alone would open up to 8), does see 2, and every recipient is delivered once.
/// </summary>
[ParallelScenario]
public class T54_BucketsShareTheDomainsConnectionCap
{
    [Fact]
    public async Task Four_buckets_never_open_more_than_the_domains_two_connections()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.AddRule((stage, _) =>
        {
            if (stage == SmtpStage.DataEnd)
            {
                Thread.Sleep(300);
            }

            return null;
        });
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Queue__Buckets__0__Domain"] = Scenario.RelayDomain,
            ["MailCluster__Queue__Buckets__0__Count"] = "4",
            ["MailCluster__Outbound__MaxConnectionsPerDomain"] = "2",
            ["MailCluster__Outbound__ConnectionIdleSeconds"] = "1",
        });
        await scenario.StartNodeAsync(config);

        const int count = 40;
        var recipients = Enumerable.Range(1, count).Select(i => $"c{i}@{Scenario.RelayDomain}").ToList();
        await ScenarioMail.SendManyAsync(config.MxPort, recipients.Select(r => Scenario.NewMessage(r, $"T54 {r}")));
        await scenario.Sink.WaitForMessagesAsync(count, TimeSpan.FromSeconds(120));

        Assert.Equal(2, scenario.Sink.MaxConcurrentConnections);
        Assert.Equal(recipients.Order(StringComparer.Ordinal), scenario.Sink.Messages.SelectMany(m => m.Recipients).Order(StringComparer.Ordinal));
    }
}
