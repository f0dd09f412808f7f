using System.Globalization;
using System.Net;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T84 (issue 14): on PostgreSQL, a bulk task whose node is killed (kill -9, never restarted) is taken over by a
/// survivor. Three nodes (with two, losing the oldest downs the survivor: PACKAGES.md). parked.test's MX is an address
/// where nothing listens, so the messages queued to it stay (the first attempts are refused, the rest wait behind the
/// destination's backoff). A delete task for the domain is started
/// through node A's API, so A runs it (a task runs on the node that received the POST; its owner is A's address). As
/// soon as the task has counted some deletions and is still running, A is killed. Its heartbeat stops; after 30 s a
/// survivor claims the task and runs it from the stored count (README, "bulk tasks"): the task ends done, resumed,
/// owned by a survivor; the domain's queue is empty, nothing reached the sink, and the count is at least what was
/// queued minus the 25 deletions the contract allows to go uncounted just before a crash.
/// </summary>
public sealed class T84_TaskTakenOverAfterNodeKill
{
    private const string Parked = "parked.test";
    private const int Messages = 1500;

    /// <summary>README: "up to 25 messages acted on just before a crash ... are not counted" (BulkTaskExecution.ProgressEvery).</summary>
    private const int UncountedAllowance = 25;

    [Fact]
    public async Task A_survivor_takes_over_the_task_of_a_killed_node_and_finishes_it()
    {
        // Connections to 127.0.0.9 on the sink's port are refused (the sink listens on 127.0.0.1 only).
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 0,
            [DnsmasqServer.Mx(Parked, "mx.parked.test", 10), DnsmasqServer.HostRecord("mx.parked.test", "127.0.0.9")]);
        var nodes = cluster.AddNodes(3, new Dictionary<string, string>
        {
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
            ["Logging__LogLevel__MailCluster.Ops"] = "Information",
        });
        await cluster.StartAllAsync();
        await ClusterHarness.WaitForClusterAsync(nodes[0], v => ClusterHarness.UpMembers(v) == 3, TimeSpan.FromSeconds(60), "three members up");
        var (a, survivors) = (nodes[0], nodes.Skip(1).ToList());

        var load = await SmtpLoad.RunAsync(cluster.LivePorts, ClusterHarness.Messages("t84", Messages, [Parked]), workers: 12, TimeSpan.FromMinutes(3));
        Assert.Equal(Messages, load.Accepted.Count);
        using var viaA = QueueApiClient.For(a.Config!);
        using var viaB = QueueApiClient.For(survivors[0].Config!);

        // All queued, the destination tried and found down: the rest wait (pending) behind its backoff, none in delivery.
        await ViewApi.PollAsync(viaB, $"/api/v1/queues?domain={Parked}", s => s.GetProperty("queues").EnumerateArray().ToList() is var rows
            && rows.Sum(q => q.GetProperty("messages").GetInt32()) == Messages && rows.Sum(q => q.GetProperty("deferred").GetInt32()) > 0
            && rows.Sum(q => q.GetProperty("inFlight").GetInt32()) == 0);

        var id = await ViewApi.StartTaskAsync(viaA, new { action = "delete", domain = Parked });
        var started = await QueueApiClient.GetJsonAsync(viaB, $"/api/v1/tasks/{id}", HttpStatusCode.OK);
        Assert.Equal(a.Address, started.GetProperty("owner").GetString());

        // Killed mid-run: some deletions counted, the task not finished.
        var running = await ViewApi.PollAsync(viaB, $"/api/v1/tasks/{id}", t => t.GetProperty("done").GetInt64() > 0 || t.GetProperty("state").GetString() != "running", TimeSpan.FromSeconds(60));
        a.Process!.Kill();
        Assert.True(running.GetProperty("state").GetString() == "running", $"the task ended before node A could be killed (queue more messages): {running}");
        long countedBeforeKill = running.GetProperty("done").GetInt64();
        Assert.InRange(countedBeforeKill, 1, Messages - 1);

        // A survivor claims it once A's heartbeat is 30 s old, and finishes it.
        JsonElement task;
        try
        {
            task = await ViewApi.WaitForTaskAsync(viaB, id, TimeSpan.FromSeconds(180));
        }
        catch (HttpRequestException ex)
        {
            var b = survivors[0].Process!;
            throw new InvalidOperationException($"node B stopped answering after A was killed (exited: {b.HasExited}); its log ends with:\n{b.Tail(40)}", ex);
        }

        var report = string.Create(CultureInfo.InvariantCulture, $"T84: {Messages} queued, {countedBeforeKill} counted when A was killed; final task {task}");
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        Assert.True(task.GetProperty("state").GetString() == "done", report);
        Assert.Equal(JsonValueKind.Null, task.GetProperty("error").ValueKind);
        Assert.True(task.GetProperty("resumed").GetInt32() >= 1, report);
        Assert.Contains(task.GetProperty("owner").GetString(), survivors.Select(n => n.Address));
        Assert.InRange(task.GetProperty("done").GetInt64(), Math.Max(countedBeforeKill, Messages - UncountedAllowance), Messages);
        Assert.Equal(0, task.GetProperty("skipped").GetInt64());

        // Every message is gone, as seen from both survivors, and none was delivered or bounced.
        foreach (var survivor in survivors)
        {
            using var http = QueueApiClient.For(survivor.Config!);
            var queue = await QueueApiClient.GetJsonAsync(http, $"/api/v1/queues/{Parked}", HttpStatusCode.OK);
            Assert.Equal(0, queue.GetProperty("total").GetInt32());
            var summary = await QueueApiClient.GetJsonAsync(http, $"/api/v1/queues?domain={Parked}", HttpStatusCode.OK);
            Assert.Empty(ViewApi.Unanswered(summary));
            Assert.Equal(0, summary.GetProperty("totals").GetProperty("deferred").GetInt32() + summary.GetProperty("totals").GetProperty("pending").GetInt32());
        }

        Assert.Empty(cluster.Scenario.Sink.Messages);
    }
}
