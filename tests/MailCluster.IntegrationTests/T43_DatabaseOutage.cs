using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T43: PostgreSQL (journal, sharding state, spool) is stopped during load and started again. While it is down
/// clients get 451 4.3.0 and the nodes report not ready with the reason; afterwards they recover by themselves
/// (journal circuit breaker, remembered entities restarted with backoff) and every message answered 250, before
/// or after the outage, reaches the sink.
/// </summary>
public class T43_DatabaseOutage
{
    [Fact]
    public async Task Database_restart_during_load_loses_nothing()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 10);
        var nodes = cluster.AddNodes(2);
        await cluster.StartAllAsync();
        // The load lasts through the outage whatever the machine's speed (a fixed 1,000 messages were all answered before
        // the database stopped on a fast machine): eight workers at most twenty messages a second each, from a list longer
        // than the run can use, stopped two seconds after the database is back.
        var messages = ClusterHarness.Messages("t43", 20_000, cluster.Domains);
        using var stopTaking = new CancellationTokenSource();
        var load = SmtpLoad.RunAsync(cluster.LivePorts, messages, workers: 8, TimeSpan.FromMinutes(3),
            pace: new LoadPace(TimeSpan.FromMilliseconds(50), stopTaking.Token));

        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(load.IsCompleted, "the load finished before the database was stopped");
        var outageStart = DateTimeOffset.UtcNow;
        await cluster.Postgres.StopAsync();
        using (var http = new HttpClient())
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            using var ready = await http.GetAsync(new Uri($"http://127.0.0.1:{nodes[0].Config!.OpsPort}/healthz/ready"));
            var body = await ready.Content.ReadAsStringAsync();
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("journal", body, StringComparison.Ordinal);
        }

        await Task.Delay(TimeSpan.FromSeconds(4));
        await cluster.Postgres.StartAgainAsync();
        var outageEnd = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(load.IsCompleted, "the load finished before the database was back");
        await stopTaking.CancelAsync();

        var result = await load;
        var duringOutage = result.TransientReplies.Where(r => r.At >= outageStart && r.At <= outageEnd).Select(r => r.Reply).ToList();
        Assert.Contains(duringOutage, r => r.StartsWith("451 4.3.0", StringComparison.Ordinal));
        Assert.Equal(result.Taken, result.Accepted.Count);
        var copies = await cluster.WaitForDeliveriesAsync([.. result.Accepted.Keys], TimeSpan.FromMinutes(2));
        var lost = result.Accepted.Keys.Where(id => !copies.ContainsKey(id)).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"T43: {result.Taken} submitted, {result.Accepted.Count} answered 250, {duringOutage.Count} temporary failures during the outage, {lost.Count} lost");
        Assert.Empty(lost);
        foreach (var node in nodes)
        {
            await node.Process!.WaitReadyAsync(node.Config!.OpsPort, TimeSpan.FromSeconds(30));
        }
    }
}
