using System.Net;
using System.Text;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T87: bulk operations by filter as asynchronous tasks (POST /api/v1/tasks). The sink answers 450 to every recipient
/// of relay.test, so five messages (three from alice, two from bob) stay deferred. A bounce task by sender fails
/// alice's three now and she gets a "failed" DSN for each (the DSN rules of the single-message bounce); a delete
/// task by domain and age removes bob's two without any DSN. Each task reports its count done; both are listed;
/// bad filters are 400 problems naming the field, an unknown task a 404.
/// </summary>
[ParallelScenario]
public sealed class T87_BulkBounceAndDeleteTasks
{
    [Fact]
    public async Task A_bounce_task_sends_dsns_and_a_delete_task_removes_silently()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.AddRule((stage, ctx) =>
            stage == SmtpStage.Rcpt && ctx.Recipient?.EndsWith("@" + Scenario.RelayDomain, StringComparison.OrdinalIgnoreCase) == true ? "450 4.2.1 mailbox busy" : null);
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
        });
        await scenario.StartNodeAsync(config, "node-t87");
        using var http = QueueApiClient.For(config);
        string alice = $"alice@{Scenario.SenderDomain}", bob = $"bob@{Scenario.SenderDomain}";
        for (int i = 0; i < 5; i++)
        {
            Assert.StartsWith("2.0.0", await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"user{i}@{Scenario.RelayDomain}", $"T87 {i}", i < 3 ? alice : bob)), StringComparison.Ordinal);
        }

        await ViewApi.PollAsync(http, $"/api/v1/queues?domain={Scenario.RelayDomain}", s => s.GetProperty("totals").GetProperty("deferred").GetInt32() == 5);

        foreach (var (body, field) in new (object, string)[]
        {
            (new { action = "nuke", domain = Scenario.RelayDomain }, "action"),
            (new { action = "delete" }, "body"),
            (new { action = "delete", domain = "-bad-" }, "domain"),
            (new { action = "bounce", recipient = "nobody" }, "recipient"),
            (new { action = "delete", older_than_seconds = -1 }, "older_than_seconds"),
        })
        {
            Assert.Equal(field, await ViewApi.RefusedTaskFieldAsync(http, body));
        }

        var bounce = await ViewApi.StartTaskAsync(http, new { action = "bounce", sender = alice });
        var bounced = await ViewApi.WaitForTaskAsync(http, bounce);
        Assert.Equal("done", bounced.GetProperty("state").GetString());
        Assert.Equal(3, bounced.GetProperty("done").GetInt64());
        Assert.Equal(alice, bounced.GetProperty("filter").GetProperty("sender").GetString());
        var dsns = await scenario.Sink.WaitForMessagesAsync(3, TimeSpan.FromSeconds(30));
        Assert.All(dsns, d =>
        {
            Assert.Equal([alice], d.Recipients);
            Assert.Contains("Action: failed", Encoding.UTF8.GetString(d.Data), StringComparison.Ordinal);
        });

        var delete = await ViewApi.StartTaskAsync(http, new { action = "delete", domain = Scenario.RelayDomain, older_than_seconds = 0 });
        var deleted = await ViewApi.WaitForTaskAsync(http, delete);
        Assert.Equal("done", deleted.GetProperty("state").GetString());
        Assert.Equal(2, deleted.GetProperty("done").GetInt64());
        Assert.Equal(0, (await QueueApiClient.GetJsonAsync(http, $"/api/v1/queues/{Scenario.RelayDomain}", HttpStatusCode.OK)).GetProperty("total").GetInt32());
        await QueueWait.UntilEmptyAsync(config, Scenario.RelayDomain, Scenario.SenderDomain);
        Assert.Equal(3, scenario.Sink.Messages.Count); // the three DSNs to alice; nothing for bob

        var listed = await QueueApiClient.GetJsonAsync(http, "/api/v1/tasks", HttpStatusCode.OK);
        Assert.Equal([delete, bounce], listed.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()).Take(2));
        Assert.Equal("id", (await QueueApiClient.GetJsonAsync(http, "/api/v1/tasks/task-unknown", HttpStatusCode.NotFound)).GetProperty("field").GetString());
    }
}
