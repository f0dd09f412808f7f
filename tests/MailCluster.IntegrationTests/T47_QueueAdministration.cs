using System.Net;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T47: queue administration over the ops API (postqueue -p / -f, postsuper -d, and "bounce now"). The sink answers
/// 451 to the end of DATA until the test lets it accept; retries are 5 minutes apart, so only the operator moves mail:
/// three messages are listed with their last error; one is deleted (never delivered, also after the node is killed
/// and restarted); one is bounced (the sender's domain gets the DSN); a flush delivers the last one at once.
/// The domain is split into three buckets, so every operation has to find its messages in whichever bucket they are.
/// </summary>
[ParallelScenario]
public class T47_QueueAdministration
{
    [Fact]
    public async Task List_delete_bounce_and_flush_over_http()
    {
        await using var scenario = await Scenario.StartAsync();
        var accepting = false;
        scenario.Sink.AddRule((stage, _) => stage == SmtpStage.DataEnd && !Volatile.Read(ref accepting) ? "451 4.3.0 mailbox busy, try later" : null);
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
            ["MailCluster__Queue__Buckets__0__Domain"] = Scenario.RelayDomain,
            ["MailCluster__Queue__Buckets__0__Count"] = "3",
        });
        var node = await scenario.StartNodeAsync(config, "node-t47");
        using var http = QueueApiClient.For(config);
        string sender = $"alice@{Scenario.SenderDomain}";
        string flushed = $"flush@{Scenario.RelayDomain}", deleted = $"delete@{Scenario.RelayDomain}", bounced = $"bounce@{Scenario.RelayDomain}";
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var to in new[] { flushed, deleted, bounced })
        {
            var reply = await Scenario.SendAsync(config.MxPort, Scenario.NewMessage(to, "T47 " + to, sender));
            ids[to] = reply[(reply.LastIndexOf(' ') + 1)..];
        }

        // postqueue -p: every message deferred once, with the sink's reply as its last error. The domain key is
        // normalised as everywhere (upper case, trailing dot).
        var listing = await QueueApiClient.PollAsync(http, "/api/v1/queues/RELAY.test.", l => l.GetProperty("messages").EnumerateArray().All(m => Recipient(m).GetProperty("attempts").GetInt32() == 1));
        Assert.Equal(3, listing.GetProperty("total").GetInt32());
        Assert.Equal("relay.test", listing.GetProperty("domain").GetString());
        Assert.Equal(["relay.test", "relay.test#0", "relay.test#1", "relay.test#2"], listing.GetProperty("queues").EnumerateArray().Select(q => q.GetString()));
        Assert.Empty(listing.GetProperty("unanswered").EnumerateArray());
        foreach (var m in listing.GetProperty("messages").EnumerateArray())
        {
            var r = Recipient(m);
            Assert.Equal(ids[r.GetProperty("address").GetString()!], m.GetProperty("id").GetString());
            Assert.Equal(sender, m.GetProperty("sender").GetString());
            Assert.StartsWith("relay.test#", m.GetProperty("queue").GetString(), StringComparison.Ordinal);
            Assert.Equal("pending", r.GetProperty("state").GetString());
            Assert.Equal("451 4.3.0 mailbox busy, try later", r.GetProperty("lastError").GetString());
            Assert.True(r.GetProperty("nextAttemptAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(3), "the retry is not 5 minutes away");
            Assert.True(m.GetProperty("arrivedAt").GetDateTimeOffset() < DateTimeOffset.UtcNow);
        }

        // Paging and bad input.
        var page = await QueueApiClient.GetJsonAsync(http, "/api/v1/queues/relay.test?limit=1", HttpStatusCode.OK);
        Assert.Single(page.GetProperty("messages").EnumerateArray());
        Assert.Equal(1, page.GetProperty("nextOffset").GetInt32());
        Assert.Contains("limit", (await QueueApiClient.GetJsonAsync(http, "/api/v1/queues/relay.test?limit=1001", HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("not a valid domain", (await QueueApiClient.GetJsonAsync(http, "/api/v1/queues/-bad-.test", HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("names a bucket", (await QueueApiClient.GetJsonAsync(http, "/api/v1/queues/relay.test%230", HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        using (var unknown = await http.DeleteAsync(new Uri($"/api/v1/queues/relay.test/messages/{Guid.NewGuid():N}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        // postsuper -d: gone from the queue, and a second delete finds nothing.
        using (var delete = await http.DeleteAsync(new Uri($"/api/v1/queues/relay.test/messages/{ids[deleted]}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        }

        using (var again = await http.DeleteAsync(new Uri($"/api/v1/queues/relay.test/messages/{ids[deleted]}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        // Bounce now: the sender's domain gets a "failed" DSN; the sink accepts from here on.
        Volatile.Write(ref accepting, true);
        using (var bounce = await http.PostAsync(new Uri($"/api/v1/queues/relay.test/messages/{ids[bounced]}/bounce", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, bounce.StatusCode);
        }

        var dsn = await scenario.Sink.WaitForDsnAsync(sender, TimeSpan.FromSeconds(30));
        Assert.Equal("failed", dsn.Recipient(bounced)["Action"]);
        Assert.Equal("5.0.0", dsn.Recipient(bounced)["Status"]);

        // postqueue -f: the last message goes at once, not in 5 minutes.
        var flushedAt = DateTime.UtcNow;
        using (var flush = await http.PostAsync(new Uri("/api/v1/queues/relay.test/flush", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, flush.StatusCode);
            using var body = JsonDocument.Parse(await flush.Content.ReadAsStringAsync());
            Assert.Equal(1, body.RootElement.GetProperty("flushed").GetInt32());
        }

        await scenario.Sink.WaitForRecipientAsync(flushed, TimeSpan.FromSeconds(30));
        Assert.True(DateTime.UtcNow - flushedAt < TimeSpan.FromSeconds(30));
        Assert.Equal(0, (await QueueApiClient.PollAsync(http, "/api/v1/queues/relay.test", l => l.GetProperty("total").GetInt32() == 0)).GetProperty("total").GetInt32());

        // The deletion is durable: after kill -9 and a restart the queue is empty, and a flush sends nothing more.
        node.Kill();
        await scenario.StartNodeAsync(config, "node-t47-restarted");
        Assert.Equal(0, (await QueueApiClient.GetJsonAsync(http, "/api/v1/queues/relay.test", HttpStatusCode.OK)).GetProperty("total").GetInt32());
        await QueueApiClient.SendAsync(http, HttpMethod.Post, "/api/v1/queues/relay.test/flush", HttpStatusCode.OK);
        await QueueWait.UntilEmptyAsync(config, Scenario.RelayDomain, Scenario.SenderDomain);
        Assert.DoesNotContain(scenario.Sink.Messages, m => m.Recipients.Contains(deleted, StringComparer.OrdinalIgnoreCase));
        Assert.DoesNotContain(scenario.Sink.Messages, m => m.Recipients.Contains(bounced, StringComparer.OrdinalIgnoreCase));
        Assert.Equal(2, scenario.Sink.Messages.Count); // the flushed message and the DSN
    }

    private static JsonElement Recipient(JsonElement message) => Assert.Single(message.GetProperty("recipients").EnumerateArray().ToList());
}
