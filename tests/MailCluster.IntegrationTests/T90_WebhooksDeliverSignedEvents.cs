using System.Net;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T90: a scripted delivery (one recipient delivered, one deferred once then delivered, one refused with 550) gives
/// Reception, Delivery, TransientFailure and Bounce events, sent to a real HTTP receiver that answers the first POST with
/// 500 and lets the second time out; the webhook retries, every request is signed, the events arrive in offset order,
/// the attempts are visible in the API, and the same events are read back by the query routes.
/// </summary>
[ParallelScenario]
public class T90_WebhooksDeliverSignedEvents
{
    private const string Secret = "t90-secret-0123456789";

    [Fact]
    public async Task Scripted_delivery_events_reach_a_failing_receiver_signed_and_in_order()
    {
        await using var receiver = new WebhookReceiver(Secret) { Answer = n => n switch { 1 => 500, 2 => null, _ => 200 } };
        await using var scenario = await Scenario.StartAsync();
        var deferred = 0;
        scenario.Sink.AddRule((stage, ctx) =>
            stage != Testing.SmtpStage.Rcpt ? null
            : ctx.Recipient == $"nobody@{Scenario.RelayDomain}" ? "550 5.1.1 no such user"
            : ctx.Recipient == $"later@{Scenario.RelayDomain}" && Interlocked.Increment(ref deferred) == 1 ? "451 4.2.1 mailbox busy"
            : null);
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Webhooks__0__Url"] = receiver.Url,
            ["MailCluster__Webhooks__0__Secret"] = Secret,
            ["MailCluster__Webhooks__TimeoutSeconds"] = "2",
        });
        await scenario.StartNodeAsync(config);

        var message = Scenario.NewMessage($"now@{Scenario.RelayDomain}", "T90");
        message.To.Add(MimeKit.MailboxAddress.Parse($"later@{Scenario.RelayDomain}"));
        message.To.Add(MimeKit.MailboxAddress.Parse($"nobody@{Scenario.RelayDomain}"));
        message.MessageId = "t90@example.org";
        var reply = await Scenario.SendAsync(config.MxPort, message);
        var queueId = reply.Split(' ')[^1];

        bool Has(IReadOnlyList<JsonElement> events, string type, string local) =>
            events.Any(e => e.GetProperty("queue_id").GetString() == queueId && e.GetProperty("type").GetString() == type
                && e.GetProperty("recipient").GetString() == $"{local}@{Scenario.RelayDomain}");
        var received = await receiver.WaitForAsync(
            events => Has(events, "Reception", "now") && Has(events, "Reception", "later") && Has(events, "Reception", "nobody")
                && Has(events, "Delivery", "now") && Has(events, "TransientFailure", "later") && Has(events, "Delivery", "later")
                && Has(events, "Bounce", "nobody"),
            TimeSpan.FromSeconds(90));

        Assert.Equal(0, receiver.BadSignatures);
        var offsets = received.Select(e => e.GetProperty("offset").GetInt64()).ToList();
        Assert.Equal(offsets.Order(), offsets);
        Assert.Equal(offsets.Count, offsets.Distinct().Count()); // at least once; here exactly once (no restart)
        var bounce = received.Single(e => e.GetProperty("type").GetString() == "Bounce" && e.GetProperty("queue_id").GetString() == queueId);
        Assert.Equal(550, bounce.GetProperty("response").GetProperty("code").GetInt32());
        Assert.Equal("5.1.1", bounce.GetProperty("response").GetProperty("enhanced_code").GetString());
        Assert.Equal("<t90@example.org>", bounce.GetProperty("message_id").GetString());
        Assert.Equal("sender@example.org", bounce.GetProperty("sender").GetString());
        Assert.Equal("127.0.0.1", bounce.GetProperty("peer").GetProperty("address").GetString()!.Split(':')[0]);
        Assert.True(bounce.GetProperty("size").GetInt64() > 0);
        var retried = received.Single(e => e.GetProperty("type").GetString() == "Delivery" && e.GetProperty("recipient").GetString() == $"later@{Scenario.RelayDomain}");
        Assert.Equal(2, retried.GetProperty("attempt").GetInt32());

        // The failures are visible: a 500 and a timeout, then deliveries.
        using var http = QueueApiClient.For(config);
        var attempts = await QueueApiClient.GetJsonAsync(http, "/api/v1/webhooks/config-0/attempts", HttpStatusCode.OK);
        var results = attempts.GetProperty("attempts").EnumerateArray().Reverse().ToList();
        Assert.Equal(500, results[0].GetProperty("status").GetInt32());
        Assert.Equal("retrying", results[0].GetProperty("result").GetString());
        Assert.Equal(JsonValueKind.Null, results[1].GetProperty("status").ValueKind);
        Assert.Contains("no answer", results[1].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("delivered", results[2].GetProperty("result").GetString());

        // The query routes answer the same events.
        var byMessage = await QueueApiClient.GetJsonAsync(http, $"/api/v1/messages/{queueId}/events", HttpStatusCode.OK);
        Assert.Equal(7, byMessage.GetProperty("events").GetArrayLength());
        var bounces = await QueueApiClient.GetJsonAsync(http, $"/api/v1/events?type=bounce&recipient=nobody@{Scenario.RelayDomain}", HttpStatusCode.OK);
        Assert.Equal(queueId, Assert.Single(bounces.GetProperty("events").EnumerateArray()).GetProperty("queue_id").GetString());
        var page = await QueueApiClient.GetJsonAsync(http, "/api/v1/events?limit=2", HttpStatusCode.OK);
        var next = page.GetProperty("next_after").GetInt64();
        var rest = await QueueApiClient.GetJsonAsync(http, $"/api/v1/events?after={next}", HttpStatusCode.OK);
        Assert.All(rest.GetProperty("events").EnumerateArray(), e => Assert.True(e.GetProperty("offset").GetInt64() > next));
        var bad = await QueueApiClient.GetJsonAsync(http, "/api/v1/events?type=Nope", HttpStatusCode.BadRequest);
        Assert.Equal("type", bad.GetProperty("field").GetString());
    }
}
