using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T40: three nodes on one PostgreSQL form a cluster from static seeds; mail for 20 domains submitted to every
/// node is delivered; the domain-queue shards are spread over all three nodes, and /api/v1/cluster shows the
/// members with their roles, Up and reachable.
/// </summary>
public class T40_ClusterFormation
{
    [Fact]
    public async Task Three_nodes_form_a_cluster_and_spread_the_shards()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 20);

        // Hold deliveries until every node hosts shards, so that entities stay alive to be counted.
        var release = false;
        cluster.Scenario.Sink.AddRule((stage, _) => stage == SmtpStage.DataEnd && !Volatile.Read(ref release) ? "451 4.3.0 not yet" : null);
        var nodes = cluster.AddNodes(3);
        await cluster.StartAllAsync();
        var view = await ClusterHarness.WaitForClusterAsync(nodes[2], v => ClusterHarness.UpMembers(v) == 3, TimeSpan.FromSeconds(30), "3 members up");
        foreach (var member in view.GetProperty("members").EnumerateArray())
        {
            Assert.Equal(["delivery", "edge"], member.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        }

        var messages = ClusterHarness.Messages("t40", 60, cluster.Domains);
        var ports = nodes.Select(n => n.Config!.MxPort).ToList();
        var load = await SmtpLoad.RunAsync(() => ports, messages, workers: 6, TimeSpan.FromSeconds(60));
        Assert.Equal(messages.Count, load.Accepted.Count);

        // 20 domains hash to ~20 of the 100 shards; least-shard allocation gives each node a share.
        view = await ClusterHarness.WaitForClusterAsync(nodes[0], v => ClusterHarness.ShardsByHost(v).Count == 3, TimeSpan.FromSeconds(30), "shards on 3 nodes");
        var shards = ClusterHarness.ShardsByHost(view);
        Assert.All(nodes, n => Assert.True(shards.GetValueOrDefault(n.Address) > 0, $"{n.Address} hosts no shard: {view}"));
        Assert.Equal(20, view.GetProperty("totalEntities").GetInt32());

        Volatile.Write(ref release, true);
        var copies = await cluster.WaitForDeliveriesAsync([.. load.Accepted.Keys], TimeSpan.FromSeconds(60));
        Assert.All(messages, m => Assert.True(copies.ContainsKey(m.MessageId), $"{m.MessageId} not delivered"));

        // Every queue empties and passivates: nothing is left stuck.
        await ClusterHarness.WaitForClusterAsync(nodes[1], v => v.GetProperty("totalEntities").GetInt32() == 0, TimeSpan.FromSeconds(30), "no entity left");
    }
}
