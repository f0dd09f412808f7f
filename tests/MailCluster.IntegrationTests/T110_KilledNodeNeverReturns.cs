using System.Globalization;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T110 (issue 19, DESIGN invariant 2): three nodes on PostgreSQL under load; the node hosting the most shards is
/// killed with SIGKILL and never restarted. The survivors down it (Split Brain Resolver), take its shards over and
/// deliver every message that any node answered 250, including every one the dead node itself answered 250 for (the
/// load generator counts 250s per node; the sink counts unique Message-IDs). Copies beyond the first are reported.
/// </summary>
public class T110_KilledNodeNeverReturns
{
    [Fact]
    public async Task Survivors_deliver_everything_a_dead_node_accepted()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 20);
        var nodes = cluster.AddNodes(3);
        await cluster.StartAllAsync();
        var messages = ClusterHarness.Messages("t110", 2000, cluster.Domains);

        var load = SmtpLoad.RunAsync(cluster.LivePorts, messages, workers: 12, TimeSpan.FromMinutes(4));
        await WaitForDeliveredAsync(cluster, 500);
        var view = await ClusterHarness.GetClusterAsync(nodes[0]);
        var busiest = ClusterHarness.ShardsByHost(view).MaxBy(h => h.Value).Key;
        var victim = nodes.Single(n => n.Address == busiest);
        var survivors = nodes.Where(n => n != victim).ToList();
        victim.Process!.Kill();

        // The mechanism, not a speed: the dead node is downed and removed, and no shard is left on it.
        var after = await ClusterHarness.WaitForClusterAsync(survivors[0],
            v => v.GetProperty("members").GetArrayLength() == 2 && ClusterHarness.UpMembers(v) == 2
                && !ClusterHarness.ShardsByHost(v).ContainsKey(victim.Address),
            TimeSpan.FromSeconds(90), "the killed node removed and its shards re-homed");

        var result = await load;
        var copies = await cluster.WaitForDeliveriesAsync([.. result.Accepted.Keys], TimeSpan.FromMinutes(3));
        var lost = result.Accepted.Keys.Where(id => !copies.ContainsKey(id)).ToList();
        var perPort = result.AcceptedPerPort();
        var acceptedByVictim = perPort.GetValueOrDefault(victim.Config!.MxPort);
        var lostOfVictim = lost.Count(id => result.AcceptedOn[id] == victim.Config.MxPort);
        var report = string.Create(CultureInfo.InvariantCulture,
            $"T110: {messages.Count} submitted, {result.Accepted.Count} answered 250 " +
            $"({string.Join(", ", nodes.Select((n, i) => $"node{i}{(n == victim ? " (killed)" : "")}: {perPort.GetValueOrDefault(n.Config!.MxPort)}"))}), " +
            $"{lost.Count} lost ({lostOfVictim} of them answered by the killed node), {copies.Values.Sum(c => c - 1)} duplicate copies, " +
            $"{result.TransientReplies.Count} temporary failures, {result.ConnectionFailures} broken connections; shards after: {after.GetProperty("shardHosts")}");
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        Console.WriteLine(report);

        Assert.True(acceptedByVictim > 0, "the killed node answered no 250 before it died, so the scenario proved nothing");
        Assert.True(lost.Count == 0, $"{report}\n{await LossReport.DescribeAsync(cluster, result, lost)}");
        Assert.Equal(messages.Count, result.Accepted.Count);
    }

    private static async Task WaitForDeliveredAsync(ClusterHarness cluster, int count)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (cluster.Scenario.Sink.Messages.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
    }
}
