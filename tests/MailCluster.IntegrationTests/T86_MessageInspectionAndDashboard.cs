using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using MimeKit;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T86: one message looked up by id alone (GET /api/v1/messages/{id}). It has two recipients of one domain: the sink
/// takes one and answers 450 to the other, so the inspection shows the envelope, the size of the spooled body, its
/// header (Subject, Message-ID), and the deferred recipient with its attempt, last reply and next attempt; the
/// delivered one is final and no longer queued. An unknown id is a 404 problem, a malformed one a 400, both naming
/// <c>id</c>. Then the dashboard in headless Chromium: with an admin token it shows the cluster-wide summary, the
/// message (from the fragment), the chart, and every action button; with a read token the same data and no action.
/// </summary>
[ParallelScenario]
public sealed class T86_MessageInspectionAndDashboard
{
    [Fact]
    public async Task A_message_is_inspected_by_id_and_the_dashboard_shows_the_cluster_view()
    {
        await using var scenario = await Scenario.StartAsync();
        string busy = $"busy@{Scenario.RelayDomain}", taken = $"taken@{Scenario.RelayDomain}", sender = $"alice@{Scenario.SenderDomain}";
        scenario.Sink.RefuseRecipient(busy, "450 4.2.1 mailbox busy");
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
        });
        await scenario.StartNodeAsync(config, "node-t86");
        using var http = QueueApiClient.For(config);
        var message = Scenario.NewMessage(busy, "T86 inspect me", sender);
        message.To.Add(MailboxAddress.Parse(taken));
        var reply = await Scenario.SendAsync(config.MxPort, message);
        var id = reply[(reply.LastIndexOf(' ') + 1)..];
        await scenario.Sink.WaitForRecipientAsync(taken, TimeSpan.FromSeconds(30));

        var inspected = await ViewApi.PollAsync(http, $"/api/v1/messages/{id}", m => m.GetProperty("recipients").EnumerateArray().Any(r => r.GetProperty("attempts").GetInt32() == 1));
        Assert.Equal(id, inspected.GetProperty("id").GetString());
        Assert.Equal("committed", inspected.GetProperty("spool").GetString());
        Assert.Equal(sender, inspected.GetProperty("sender").GetString());
        Assert.True(inspected.GetProperty("size").GetInt32() > Scenario.WireBytes(message).Length, "the spooled body is the message plus the Received header");
        Assert.Equal([Scenario.RelayDomain], inspected.GetProperty("queues").EnumerateArray().Select(q => q.GetString()));
        Assert.Empty(ViewApi.Unanswered(inspected));
        var recipient = Assert.Single(inspected.GetProperty("recipients").EnumerateArray().ToList());
        Assert.Equal(busy, recipient.GetProperty("address").GetString());
        Assert.Equal("deferred", recipient.GetProperty("state").GetString());
        Assert.Equal("450 4.2.1 mailbox busy", recipient.GetProperty("lastReply").GetString());
        Assert.True(recipient.GetProperty("nextAttemptAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(3), "the retry is not 5 minutes away");
        Assert.StartsWith("akka.tcp://mailcluster@", recipient.GetProperty("node").GetString(), StringComparison.Ordinal);
        var headers = inspected.GetProperty("headers").EnumerateArray().ToDictionary(h => h.GetProperty("name").GetString()!, h => h.GetProperty("value").GetString()!, StringComparer.OrdinalIgnoreCase);
        Assert.Equal("T86 inspect me", headers["Subject"]);
        Assert.Equal($"<{message.MessageId}>", headers["Message-Id"]);
        Assert.Contains("folded-header-value folded-header-value", headers["X-Long"], StringComparison.Ordinal); // unfolded
        Assert.False(inspected.GetProperty("headersTruncated").GetBoolean());

        var unknown = await QueueApiClient.GetJsonAsync(http, "/api/v1/messages/NoSuchMessage123", HttpStatusCode.NotFound);
        Assert.Equal("id", unknown.GetProperty("field").GetString());
        var malformed = await QueueApiClient.GetJsonAsync(http, "/api/v1/messages/bad%21id", HttpStatusCode.BadRequest);
        Assert.Equal("id", malformed.GetProperty("field").GetString());

        // The dashboard (Debian's chromium, required under test.sh).
        if (TestTools.Find("chromium") is not { } chromium)
        {
            return;
        }

        var page = $"http://127.0.0.1:{config.OpsPort}/";
        var dom = await HeadlessChromium.DumpDomAsync(chromium, $"{page}#token={config.AdminToken}&message={id}", TimeSpan.FromSeconds(60));
        await File.WriteAllTextAsync(Path.Combine(AppContext.BaseDirectory, "node-logs", "T86-dashboard-admin.html"), dom); // for a person to read
        var queues = Section(dom, "id=\"queues\"");
        Assert.Contains($"<td>{Scenario.RelayDomain}</td>", queues, StringComparison.Ordinal);
        Assert.Contains("<td>450 4.2.1 mailbox busy</td>", queues, StringComparison.Ordinal);
        Assert.Contains(">Flush relay.test</button>", queues, StringComparison.Ordinal);
        Assert.Contains(">Suspend relay.test</button>", queues, StringComparison.Ordinal);
        Assert.Contains("1 queues; 0 pending, 1 deferred recipients, 0 held", dom, StringComparison.Ordinal);
        var recipients = Section(dom, "id=\"message-recipients\"");
        Assert.Contains($"<td>{busy}</td><td>{Scenario.RelayDomain}</td>", recipients, StringComparison.Ordinal);
        Assert.Contains("<td>deferred</td>", recipients, StringComparison.Ordinal);
        Assert.Contains("<td>T86 inspect me</td>", Section(dom, "id=\"message-headers\""), StringComparison.Ordinal);
        foreach (var action in new[] { "Flush all queues", "Hold", "Release" })
        {
            Assert.Contains($">{action}</button>", dom, StringComparison.Ordinal);
        }

        Assert.Equal(4, Section(dom, "id=\"chart\"").Split("<polyline").Length - 1); // accepted, delivered, deferred, bounced
        Assert.Contains(">accepted</span>", dom, StringComparison.Ordinal);

        var screenshot = Path.Combine(AppContext.BaseDirectory, "node-logs", "T86-dashboard-admin.png");
        File.Delete(screenshot);
        await HeadlessChromium.ScreenshotAsync(chromium, $"{page}#token={config.AdminToken}&message={id}", screenshot, TimeSpan.FromSeconds(60));
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is nearly empty");

        // A read token: the same data, no action.
        using var create = await http.PostAsJsonAsync(new Uri("/api/v1/tokens", UriKind.Relative), new { name = "t86-read", role = "read" });
        var reader = (await create.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        var readDom = await HeadlessChromium.DumpDomAsync(chromium, $"{page}#token={reader}&message={id}", TimeSpan.FromSeconds(60));
        Assert.Contains($"<td>{Scenario.RelayDomain}</td>", Section(readDom, "id=\"queues\""), StringComparison.Ordinal);
        Assert.Contains("<td>deferred</td>", Section(readDom, "id=\"message-recipients\""), StringComparison.Ordinal);
        foreach (var action in new[] { "Flush all queues", "Hold", "Release", "Flush relay.test", "Suspend relay.test" })
        {
            Assert.DoesNotContain($">{action}</button>", readDom, StringComparison.Ordinal);
        }
    }

    /// <summary>The markup from the element with <paramref name="marker"/> to the end of its table body or svg.</summary>
    private static string Section(string dom, string marker)
    {
        var start = dom.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(start >= 0, $"the page has no element {marker}");
        var rest = dom[start..];
        var end = rest.IndexOf(rest.StartsWith("id=\"chart\"", StringComparison.Ordinal) ? "</svg>" : "</tbody>", StringComparison.Ordinal);
        return rest[..end];
    }
}
