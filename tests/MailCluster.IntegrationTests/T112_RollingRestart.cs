using System.Globalization;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T112 (issue 19): a rolling restart of all three nodes under load, one at a time, as Kubernetes does it: SIGTERM
/// (the drain path: new sessions get 421 4.3.2, shards are handed off, the node leaves and exits 0), wait until the
/// remaining two are a cluster, start the node again, wait until it is Up, go on with the next. The only temporary
/// failures the clients may see are the drain's 421 4.3.2 (no 451 from an enqueue that met a shard in hand-off);
/// nothing answered 250 is lost.
/// </summary>
public class T112_RollingRestart
{
    [Fact]
    public async Task Restarting_every_node_in_turn_under_load_loses_nothing()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 20);
        var nodes = cluster.AddNodes(3);
        foreach (var n in nodes)
        {
            // The production default (the harness shortens it to 10 s for other scenarios). A hand-off waits up to
            // DeliveryScheduler.StopGrace (10 s) for deliveries already running while the shard buffers new mail, so an
            // enqueue timeout of 10 s turns a hand-off behind a slow delivery into a 451; 30 s covers it.
            n.Config!.Environment["MailCluster__Queue__EnqueueTimeoutSeconds"] = "30";

            // With it the production commit grace: an acceptance whose commit completes past the grace answers 451
            // (MessageAcceptor.CommitBy), and the harness's 15 s would cut the 30 s above short.
            n.Config!.Environment["MailCluster__Queue__CommitGraceSeconds"] = "120";
        }

        await cluster.StartAllAsync();
        // The load lasts until every node has been restarted, whatever the machine's speed: ten workers at most ten
        // messages a second each, from a list longer than the run can use, stopped a few seconds after the last restart.
        var messages = ClusterHarness.Messages("t112", 40_000, cluster.Domains);
        using var stopTaking = new CancellationTokenSource();
        var load = SmtpLoad.RunAsync(cluster.LivePorts, messages, workers: 10, TimeSpan.FromMinutes(8),
            pace: new LoadPace(TimeSpan.FromMilliseconds(100), stopTaking.Token));

        for (var i = 0; i < nodes.Count; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            var node = nodes[i];
            var other = nodes[(i + 1) % nodes.Count];
            Assert.False(load.IsCompleted, $"the load finished before node{i} was restarted, so that restart was not under load");
            Assert.Equal(0, await node.Process!.StopAsync(TimeSpan.FromSeconds(90)));
            await ClusterHarness.WaitForClusterAsync(other, v => v.GetProperty("members").GetArrayLength() == 2 && ClusterHarness.UpMembers(v) == 2,
                TimeSpan.FromSeconds(60), $"two members after node{i} left");
            await cluster.StartAsync(node, string.Create(CultureInfo.InvariantCulture, $"node{i}-restarted"));
            await ClusterHarness.WaitForClusterAsync(other, v => ClusterHarness.UpMembers(v) == 3,
                TimeSpan.FromSeconds(60), $"node{i} Up again");
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(load.IsCompleted, "the load finished before the last node was Up again");
        await stopTaking.CancelAsync();
        var result = await load;
        var copies = await cluster.WaitForDeliveriesAsync([.. result.Accepted.Keys], TimeSpan.FromMinutes(3));
        var lost = result.Accepted.Keys.Where(id => !copies.ContainsKey(id)).ToList();
        var unexpected = result.TransientReplies.Where(r => !r.Reply.StartsWith("421 4.3.2", StringComparison.Ordinal)).ToList();
        var report = string.Create(CultureInfo.InvariantCulture,
            $"T112: {result.Taken} submitted, {result.Accepted.Count} answered 250, {lost.Count} lost, " +
            $"{copies.Values.Sum(c => c - 1)} duplicate copies, {result.TransientReplies.Count - unexpected.Count} drain 421s, " +
            $"{unexpected.Count} other temporary failures, {result.ConnectionFailures} broken connections")
            + string.Concat(unexpected.Take(10).Select(u => string.Create(CultureInfo.InvariantCulture, $"\n  {u.At:HH:mm:ss.fff} {u.Reply}")));
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        Console.WriteLine(report);

        Assert.True(lost.Count == 0, $"{report}\n{await LossReport.DescribeAsync(cluster, result, lost)}");
        Assert.Equal(result.Taken, result.Accepted.Count);
        Assert.Empty(unexpected);
    }
}
