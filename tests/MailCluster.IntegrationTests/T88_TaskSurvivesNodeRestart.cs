using System.Net;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T88: a bulk task outlives its node. 200 messages stay deferred (the sink answers 450 to relay.test); a delete task
/// for the domain is started and the node is killed (kill -9) as soon as the task is accepted. The task is persisted
/// (SQLite here) and the restarted node resumes it (same cluster address, so it claims its own task at once): it
/// ends done, marked resumed, and the queue is empty with nothing delivered. Its count is what the runs recorded: the
/// messages deleted after the last progress write before the kill (fewer than 25) are gone but not
/// counted, so it is at most 200.
/// </summary>
public sealed class T88_TaskSurvivesNodeRestart
{
    private const int Messages = 200;

    [Fact]
    public async Task A_delete_task_interrupted_by_a_kill_resumes_after_the_restart()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.AddRule((stage, ctx) =>
            stage == SmtpStage.Rcpt && ctx.Recipient?.EndsWith("@" + Scenario.RelayDomain, StringComparison.OrdinalIgnoreCase) == true ? "450 4.2.1 mailbox busy" : null);
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
        });
        var node = await scenario.StartNodeAsync(config, "node-t88");
        using var http = QueueApiClient.For(config);
        foreach (var batch in Enumerable.Range(0, Messages).Chunk(10))
        {
            await Task.WhenAll(batch.Select(i => Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"user{i}@{Scenario.RelayDomain}", $"T88 {i}", $"alice@{Scenario.SenderDomain}"))));
        }

        await ViewApi.PollAsync(http, $"/api/v1/queues?domain={Scenario.RelayDomain}", s => s.GetProperty("totals").GetProperty("deferred").GetInt32() == Messages, TimeSpan.FromSeconds(60));

        var id = await ViewApi.StartTaskAsync(http, new { action = "delete", domain = Scenario.RelayDomain });
        node.Kill();
        await scenario.StartNodeAsync(config, "node-t88-restarted");

        var task = await ViewApi.WaitForTaskAsync(http, id, TimeSpan.FromSeconds(90));
        Assert.Equal("done", task.GetProperty("state").GetString());
        Assert.True(task.GetProperty("resumed").GetInt32() >= 1, $"the task was not resumed: {task}");
        Assert.InRange(task.GetProperty("done").GetInt64(), 0, Messages);
        Assert.Equal(0, (await QueueApiClient.GetJsonAsync(http, $"/api/v1/queues/{Scenario.RelayDomain}", HttpStatusCode.OK)).GetProperty("total").GetInt32());
        Assert.Empty(scenario.Sink.Messages);
    }
}
