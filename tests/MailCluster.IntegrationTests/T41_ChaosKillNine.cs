using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T41 (DESIGN invariant 2): three nodes; 2,400 messages with unique Message-IDs are submitted across the nodes
/// by parallel clients while one node is killed with SIGKILL and restarted, twice (the second time the oldest
/// node, which hosts the shard coordinator), each kill after 600 more deliveries and checked to land while the
/// load still runs. Every message that got 250 reaches the sink: zero lost. Copies beyond the first (an attempt
/// that finished DATA on a node that died before persisting the result) are counted and reported.
/// </summary>
public class T41_ChaosKillNine
{
    [Fact]
    public async Task Nothing_answered_250_is_lost_when_nodes_are_killed()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 20);
        var nodes = cluster.AddNodes(3);
        await cluster.StartAllAsync();
        // The load lasts through both kills whatever the machine's speed (a fixed list could be used up during a restart
        // on a fast machine): twelve workers at most twenty messages a second each, from a list longer than the run can
        // use, stopped a few seconds after the second restart.
        var messages = ClusterHarness.Messages("t41", 40_000, cluster.Domains);
        using var stopTaking = new CancellationTokenSource();
        var load = SmtpLoad.RunAsync(cluster.LivePorts, messages, workers: 12, TimeSpan.FromMinutes(4),
            pace: new LoadPace(TimeSpan.FromMilliseconds(50), stopTaking.Token));
        foreach (var victim in new[] { nodes[1], nodes[0] })
        {
            await WaitForAcceptedAsync(cluster, 600);
            Assert.False(load.IsCompleted, "the load finished before a kill, so that kill was not under load");
            victim.Process!.Kill();
            await Task.Delay(TimeSpan.FromSeconds(1));
            await cluster.StartAsync(victim, "restarted");
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        await stopTaking.CancelAsync();
        var result = await load;
        var copies = await cluster.WaitForDeliveriesAsync([.. result.Accepted.Keys], TimeSpan.FromMinutes(3));
        var lost = result.Accepted.Keys.Where(id => !copies.ContainsKey(id)).ToList();
        var duplicates = copies.Values.Sum(c => c - 1);
        var report = $"T41: {result.Taken} submitted, {result.Accepted.Count} answered 250, {lost.Count} lost, " +
            $"{duplicates} duplicate copies, {result.TransientReplies.Count} temporary failures, {result.ConnectionFailures} broken connections";
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        Console.WriteLine(report);

        Assert.True(lost.Count == 0, $"{report}\n{await LossReport.DescribeAsync(cluster, result, lost)}");
        Assert.Equal(result.Taken, result.Accepted.Count);
    }

    private static async Task WaitForAcceptedAsync(ClusterHarness cluster, int more)
    {
        var target = cluster.Scenario.Sink.Messages.Count + more;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (cluster.Scenario.Sink.Messages.Count < target && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
    }
}
