using System.Globalization;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T113 (issue 19 target 5): a destination's connection cap holds across nodes. Three nodes on PostgreSQL; d0.test
/// is split into 4 buckets (queues spread over the nodes) and allows 2 connections
/// (<c>MailCluster__Outbound__MaxConnectionsPerDomain=2</c>); the sink is slow to answer the end of DATA, so every
/// bucket on every node wants connections at once. Each node shaping alone would open up to 6; the domain's gate
/// entity leases 2 slots to the whole cluster, so the sink never sees more than 2 sessions (and does see 2).
/// Then the node hosting the most buckets is killed with SIGKILL while it delivers: its leases are freed (membership
/// removal, or the lease TTL) and the survivors deliver every message, still never above 2 sessions.
/// </summary>
public class T113_ClusterWideConnectionCap
{
    [Fact]
    public async Task Three_nodes_share_the_domains_two_connections_and_survive_a_killed_holder()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 1);
        cluster.Scenario.Sink.AddRule((stage, _) =>
        {
            if (stage == SmtpStage.DataEnd)
            {
                Thread.Sleep(150);
            }

            return null;
        });
        var nodes = cluster.AddNodes(3, new Dictionary<string, string>
        {
            ["MailCluster__Queue__Buckets__0__Domain"] = "d0.test",
            ["MailCluster__Queue__Buckets__0__Count"] = "4",
            ["MailCluster__Outbound__MaxConnectionsPerDomain"] = "2",
            ["MailCluster__Outbound__ConnectionIdleSeconds"] = "1",
        });
        await cluster.StartAllAsync();

        var messages = ClusterHarness.Messages("t113", 240, cluster.Domains);
        var load = await SmtpLoad.RunAsync(cluster.LivePorts, messages, workers: 6, TimeSpan.FromMinutes(2));
        Assert.Equal(messages.Count, load.Accepted.Count);

        // The premise: the four buckets run on more than one node (least-shard allocation spreads new shards).
        var view = await ClusterHarness.WaitForClusterAsync(nodes[0], v => v.GetProperty("totalEntities").GetInt32() >= 4,
            TimeSpan.FromSeconds(30), "the four bucket entities started");
        var bucketsByHost = EntitiesByHost(view);
        Assert.True(bucketsByHost.Count(h => h.Value > 0) >= 2, $"all buckets run on one node, so the scenario proves nothing: {view}");

        await WaitForSinkAsync(cluster, 60);
        var beforeKill = cluster.Scenario.Sink.MaxConcurrentConnections;
        var busiest = bucketsByHost.MaxBy(h => h.Value).Key;
        var victim = nodes.Single(n => n.Address == busiest);
        var openAtKill = cluster.Scenario.Sink.ConnectionCount;
        victim.Process!.Kill();

        var copies = await cluster.WaitForDeliveriesAsync([.. load.Accepted.Keys], TimeSpan.FromMinutes(3));
        var lost = load.Accepted.Keys.Where(id => !copies.ContainsKey(id)).ToList();
        var report = string.Create(CultureInfo.InvariantCulture,
            $"T113: buckets per node {string.Join(", ", bucketsByHost.Select(h => $"{h.Key}={h.Value}"))}; at most {beforeKill} sessions " +
            $"before the kill, {cluster.Scenario.Sink.MaxConcurrentConnections} overall; {openAtKill} sessions seen in all at the kill; " +
            $"{lost.Count} lost, {copies.Values.Sum(c => c - 1)} duplicate copies");
        TestContext.Current.TestOutputHelper?.WriteLine(report);

        Assert.Equal(2, beforeKill);
        Assert.Equal(2, cluster.Scenario.Sink.MaxConcurrentConnections);
        Assert.True(lost.Count == 0, $"{report}\n{await LossReport.DescribeAsync(cluster, load, lost)}");
    }

    private static Dictionary<string, int> EntitiesByHost(JsonElement view) =>
        view.GetProperty("shardHosts").EnumerateArray().ToDictionary(h => h.GetProperty("address").GetString()!, h => h.GetProperty("entities").GetInt32());

    private static async Task WaitForSinkAsync(ClusterHarness cluster, int count)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (cluster.Scenario.Sink.Messages.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }
}
