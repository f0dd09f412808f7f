using System.Net;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T91: events are pending (the receiver answers 503) when the node is killed with SIGKILL; after a restart on the same
/// data directory the webhook resumes from its persisted cursor and the receiver, now answering 200, gets every event
/// of the message: nothing persisted before the kill is lost.
/// </summary>
[ParallelScenario]
public class T91_WebhookEventsSurviveKill
{
    private const string Secret = "t91-secret-0123456789";

    [Fact]
    public async Task Pending_events_are_delivered_after_kill_and_restart()
    {
        var down = true;
        await using var receiver = new WebhookReceiver(Secret) { Answer = _ => Volatile.Read(ref down) ? 503 : 200 };
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Webhooks__0__Url"] = receiver.Url,
            ["MailCluster__Webhooks__0__Secret"] = Secret,
            ["MailCluster__Webhooks__0__BatchSize"] = "10",
        });
        var node = await scenario.StartNodeAsync(config);
        var reply = await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"one@{Scenario.RelayDomain}", "T91"));
        var queueId = reply.Split(' ')[^1];
        await scenario.Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(60));

        // Both events are stored and the webhook is failing on them.
        using (var http = QueueApiClient.For(config))
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await QueueApiClient.GetJsonAsync(http, $"/api/v1/messages/{queueId}/events", HttpStatusCode.OK)).GetProperty("events").GetArrayLength() < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, "the Reception and Delivery events were not stored within 30 s");
                await Task.Delay(200);
            }
        }

        var failing = receiver.Requests;
        await receiver.WaitForAsync(_ => receiver.Requests > failing, TimeSpan.FromSeconds(30));
        node.Kill();
        Volatile.Write(ref down, false);
        await scenario.StartNodeAsync(config, "restarted");

        var events = await receiver.WaitForAsync(
            all => all.Count(e => e.GetProperty("queue_id").GetString() == queueId) >= 2, TimeSpan.FromSeconds(90));
        Assert.Equal(["Reception", "Delivery"], events.Where(e => e.GetProperty("queue_id").GetString() == queueId).Select(e => e.GetProperty("type").GetString()).Distinct());
        Assert.Equal(0, receiver.BadSignatures);
        using var after = QueueApiClient.For(config);
        var hooks = await QueueApiClient.GetJsonAsync(after, "/api/v1/webhooks", HttpStatusCode.OK);
        Assert.Equal(JsonValueKindNull(), hooks.GetProperty("webhooks")[0].GetProperty("secret").ValueKind);
    }

    private static System.Text.Json.JsonValueKind JsonValueKindNull() => System.Text.Json.JsonValueKind.Null;
}
