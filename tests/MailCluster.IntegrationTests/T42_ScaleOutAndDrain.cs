using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T42: a fourth node joins a three-node cluster under load and shards rebalance onto it; then the oldest node
/// (the one hosting the shard coordinator) drains through <c>POST /api/v1/node/drain</c>: it hands its shards
/// off, leaves and exits 0 within its grace period. Nothing answered 250 is lost, and every domain queue empties
/// afterwards (no entity left stuck on a node that left).
/// </summary>
public class T42_ScaleOutAndDrain
{
    [Fact]
    public async Task Fourth_node_takes_shards_and_a_drained_node_loses_nothing()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 40);
        var nodes = cluster.AddNodes(3);
        await cluster.StartAllAsync();
        var messages = ClusterHarness.Messages("t42", 2500, cluster.Domains);
        var load = SmtpLoad.RunAsync(cluster.LivePorts, messages, workers: 10, TimeSpan.FromMinutes(3));

        await Task.Delay(TimeSpan.FromSeconds(3));
        var fourth = cluster.AddNodes(1)[0];
        await cluster.StartAsync(fourth, "node3");
        await ClusterHarness.WaitForClusterAsync(fourth, v => ClusterHarness.ShardsByHost(v).GetValueOrDefault(fourth.Address) > 0,
            TimeSpan.FromSeconds(60), "shards rebalanced onto the fourth node");

        var leaving = nodes[0];
        using (var http = QueueApiClient.For(leaving.Config!))
        {
            using var response = await http.PostAsync(new Uri("/api/v1/node/drain", UriKind.Relative), null);
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        }

        Assert.Equal(0, await leaving.Process!.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var view = await ClusterHarness.WaitForClusterAsync(nodes[1], v => ClusterHarness.UpMembers(v) == 3 && v.GetProperty("members").GetArrayLength() == 3,
            TimeSpan.FromSeconds(30), "three members after the drain");
        Assert.DoesNotContain(leaving.Address, ClusterHarness.ShardsByHost(view).Keys);

        var result = await load;
        var copies = await cluster.WaitForDeliveriesAsync([.. result.Accepted.Keys], TimeSpan.FromMinutes(2));
        var lost = result.Accepted.Keys.Where(id => !copies.ContainsKey(id)).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"T42: {result.Accepted.Count} answered 250, {lost.Count} lost, {copies.Values.Sum(c => c - 1)} duplicate copies");
        Assert.Empty(lost);
        Assert.Equal(messages.Count, result.Accepted.Count);
        await ClusterHarness.WaitForClusterAsync(nodes[1], v => v.GetProperty("totalEntities").GetInt32() == 0,
            TimeSpan.FromSeconds(60), "every domain queue empty and passivated");
    }
}
