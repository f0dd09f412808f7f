using System.Net;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T93: a webhook with a 3 s retry window and a receiver that answers 500 to every request carrying the first message's
/// events. Each of that message's batches is retried, then recorded as failed (attempts API, failed-events metric) and
/// passed; the second message's events are then delivered, signed, while the first message's never got a 2xx answer.
/// /metrics agrees with what the receiver saw: requests by result, failed events, lag back to 0, events projected.
/// </summary>
[ParallelScenario]
public class T93_WebhookGivesUpAfterItsRetryWindow
{
    private const string Secret = "t93-secret-0123456789";
    private const string Hook = "config-0";
    private static readonly string First = $"first@{Scenario.RelayDomain}";
    private static readonly string Second = $"second@{Scenario.RelayDomain}";

    [Fact]
    public async Task A_batch_that_never_succeeds_is_recorded_as_failed_and_passed()
    {
        await using var receiver = new WebhookReceiver(Secret)
        {
            AnswerEvents = (_, events) => events.Any(e => Recipient(e) == First) ? 500 : 200,
        };
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Webhooks__0__Url"] = receiver.Url,
            ["MailCluster__Webhooks__0__Secret"] = Secret,
            ["MailCluster__Webhooks__0__MaxRetrySeconds"] = "3",
        });
        await scenario.StartNodeAsync(config);
        using var http = QueueApiClient.For(config);

        var firstId = (await Scenario.SendAsync(config.MxPort, Scenario.NewMessage(First, "T93 first"))).Split(' ')[^1];
        await scenario.Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(60));
        var firstOffsets = await OffsetsAsync(http, firstId, 2);

        // Every batch of the first message is tried, refused, and after the window recorded as failed.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await AttemptsAsync(http) is var tried && !firstOffsets.All(o => tried.Any(a => a.GetProperty("result").GetString() == "failed"
            && a.GetProperty("first_offset").GetInt64() <= o && o <= a.GetProperty("last_offset").GetInt64())))
        {
            Assert.True(DateTime.UtcNow < deadline, "the first message's batches were not recorded as failed within 60 s");
            await Task.Delay(250);
        }

        var attempts = await AttemptsAsync(http);
        var failed = attempts.Where(a => a.GetProperty("result").GetString() == "failed").ToList();
        Assert.Equal(firstOffsets.Count, failed.Sum(a => a.GetProperty("events").GetInt32()));
        Assert.All(attempts, a => Assert.Equal(500, a.GetProperty("status").GetInt32()));
        Assert.True(attempts.Count > failed.Count, "a failing batch is retried within its window before it is given up");
        await MetricsAsync(http, m => Value(m, "mailcluster_webhook_failed_events_total") == firstOffsets.Count);
        var listed = (await QueueApiClient.GetJsonAsync(http, "/api/v1/webhooks", HttpStatusCode.OK)).GetProperty("webhooks")[0];
        Assert.Equal(firstOffsets.Count, listed.GetProperty("failed_events").GetInt32());
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("failing_since").ValueKind);

        // The webhook moved past them: the second message's events are delivered, signed.
        var secondId = (await Scenario.SendAsync(config.MxPort, Scenario.NewMessage(Second, "T93 second"))).Split(' ')[^1];
        var received = await receiver.WaitForAsync(
            all => all.Count(e => e.GetProperty("queue_id").GetString() == secondId) >= 2, TimeSpan.FromSeconds(90));
        Assert.Equal(["Reception", "Delivery"], received.Where(e => e.GetProperty("queue_id").GetString() == secondId).Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(0, receiver.BadSignatures);
        Assert.DoesNotContain(received, e => e.GetProperty("queue_id").GetString() == firstId);
        var answered = receiver.Answered.ToList();
        Assert.DoesNotContain(answered, r => r.Status is >= 200 and < 300 && r.Events.Any(e => Recipient(e) == First));
        Assert.True(answered.Count(r => r.Status == 500) >= attempts.Count, "every recorded failure was a refused request");

        // /metrics follows what the receiver saw (the counters are bumped after the answer: wait for them to settle).
        var secondOffsets = await OffsetsAsync(http, secondId, 2);
        var stored = (await QueueApiClient.GetJsonAsync(http, "/api/v1/events?limit=1000", HttpStatusCode.OK)).GetProperty("events").GetArrayLength();
        Assert.Equal(firstOffsets.Count + secondOffsets.Count, stored);
        var metrics = await MetricsAsync(http, m =>
            Value(m, "mailcluster_webhook_requests_total", "result=\"delivered\"") == receiver.Answered.Count(r => r.Status is >= 200 and < 300)
            && Value(m, "mailcluster_webhook_requests_total", "result=\"failed\"") == receiver.Answered.Count(r => r.Status == 500)
            && Value(m, "mailcluster_webhook_lag_events") == 0);
        Assert.Equal(receiver.Requests, receiver.Answered.Count);
        Assert.Equal(secondOffsets.Count, Value(metrics, "mailcluster_webhook_requests_total", "result=\"delivered\""));
        Assert.Equal(firstOffsets.Count, Value(metrics, "mailcluster_webhook_failed_events_total"));
        Assert.Equal(stored, PrometheusText.Sum(metrics, "mailcluster_events_projected_total"));
        Assert.Equal(
            (await AttemptsAsync(http)).Count(a => a.GetProperty("result").GetString() != "delivered"),
            Value(metrics, "mailcluster_webhook_requests_total", "result=\"failed\""));
    }

    private static string? Recipient(JsonElement e) => e.TryGetProperty("recipient", out var r) ? r.GetString() : null;

    private static double Value(Dictionary<string, double> samples, string metric, params string[] labels) =>
        PrometheusText.Sum(samples, metric, [$"webhook=\"{Hook}\"", .. labels]);

    private static async Task<List<JsonElement>> AttemptsAsync(HttpClient http) =>
        [.. (await QueueApiClient.GetJsonAsync(http, $"/api/v1/webhooks/{Hook}/attempts", HttpStatusCode.OK)).GetProperty("attempts").EnumerateArray()];

    /// <summary>The offsets of a message's events once at least <paramref name="count"/> are stored.</summary>
    private static async Task<List<long>> OffsetsAsync(HttpClient http, string queueId, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var events = (await QueueApiClient.GetJsonAsync(http, $"/api/v1/messages/{queueId}/events", HttpStatusCode.OK)).GetProperty("events");
            if (events.GetArrayLength() >= count)
            {
                return [.. events.EnumerateArray().Select(e => e.GetProperty("offset").GetInt64())];
            }

            Assert.True(DateTime.UtcNow < deadline, $"{count} events of {queueId} were not stored within 30 s");
            await Task.Delay(200);
        }
    }

    /// <summary>Scrapes /metrics until <paramref name="condition"/> holds; returns that scrape.</summary>
    private static async Task<Dictionary<string, double>> MetricsAsync(HttpClient http, Func<Dictionary<string, double>, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var text = "";
        while (DateTime.UtcNow < deadline)
        {
            text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            var samples = PrometheusText.Parse(text);
            if (condition(samples))
            {
                return samples;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException("metrics did not reach the expected state; last scrape:\n" + text);
    }
}
