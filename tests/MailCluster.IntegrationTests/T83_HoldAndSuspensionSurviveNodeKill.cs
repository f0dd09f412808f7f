using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T83: on PostgreSQL, kill -9 of the node hosting a held message and a suspended domain's queue; another node carries
/// both. Three nodes (with two, losing the oldest downs the survivor: PACKAGES.md), one shard (Queue:Shards=1), so both
/// queues live on the same node, found by its log line of the hold. Both messages are deferred once (the sink answers
/// 451), one is held through node 0 and d1.test is suspended through node 1. After the kill, a survivor lists the held
/// message on-hold, a flush (answered by the re-homed queues) sends neither while a new message to d0.test is
/// delivered; then resume, and release with a flush, each through a survivor, deliver both.
/// </summary>
public sealed class T83_HoldAndSuspensionSurviveNodeKill
{
    [Fact]
    public async Task Another_node_carries_the_hold_and_the_suspension_after_a_kill()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 2);
        var nodes = cluster.AddNodes(3, new Dictionary<string, string>
        {
            ["MailCluster__Queue__Shards"] = "1",
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
            ["Logging__LogLevel__Akka.Actor.ActorSystem"] = "Information",
        });
        var sink = cluster.Scenario.Sink;
        int accepting = 0;
        sink.AddRule((stage, _) => stage == SmtpStage.DataEnd && Volatile.Read(ref accepting) == 0 ? "451 4.3.0 try again later" : null);
        await cluster.StartAllAsync();
        string held = "held@d0.test", suspended = "waits@d1.test", control = "control@d0.test";

        var heldId = Id(await Scenario.SendAsync(nodes[0].Config!.MxPort, Scenario.NewMessage(held, "T83 held")));
        await Scenario.SendAsync(nodes[1].Config!.MxPort, Scenario.NewMessage(suspended, "T83 suspended"));
        await QueueWait.UntilAttemptedAsync(nodes[0].Config!, "d0.test", 1);
        await QueueWait.UntilAttemptedAsync(nodes[0].Config!, "d1.test", 1);

        using (var first = QueueApiClient.For(nodes[0].Config!))
        {
            var answer = await QueueApiClient.SendAsync(first, HttpMethod.Post, $"/api/v1/messages/{heldId}/hold", HttpStatusCode.OK);
            Assert.Equal("on-hold", answer.GetProperty("queues")[0].GetProperty("status").GetString());
        }

        using (var second = QueueApiClient.For(nodes[1].Config!))
        using (var suspend = await second.PostAsJsonAsync(new Uri("/api/v1/suspensions", UriKind.Relative), new { domain = "d1.test", duration_seconds = 3600, reason = "T83" }))
        {
            Assert.Equal(HttpStatusCode.OK, suspend.StatusCode);
        }

        // The node that logged the hold hosts the only shard, so both queues: kill it.
        var line = $"Message {heldId} in d0.test put on hold by the operator";
        var victim = await HostOfAsync(nodes, line);
        victim.Process!.Kill();
        var survivor = nodes.First(n => n != victim);
        using var http = QueueApiClient.For(survivor.Config!);

        // Re-homed on a survivor, recovered from the journal: the message is still on hold.
        var listing = await PollAsync(http, "/api/v1/queues/d0.test", l => l.GetProperty("total").GetInt32() == 1);
        var recipient = listing.GetProperty("messages")[0].GetProperty("recipients")[0];
        Assert.Equal(("on-hold", 1), (recipient.GetProperty("state").GetString(), recipient.GetProperty("attempts").GetInt32()));
        await HostOfAsync([.. nodes.Where(n => n != victim)], "Domain queue d0.test recovered");

        // The sink accepts now; a flush reaches both re-homed queues. New mail to d0.test goes; neither held nor suspended mail.
        Volatile.Write(ref accepting, 1);
        Assert.Equal(0, (await QueueApiClient.SendAsync(http, HttpMethod.Post, "/api/v1/queues/d0.test/flush", HttpStatusCode.OK)).GetProperty("flushed").GetInt32());
        Assert.Equal(1, (await QueueApiClient.SendAsync(http, HttpMethod.Post, "/api/v1/queues/d1.test/flush", HttpStatusCode.OK)).GetProperty("flushed").GetInt32());
        await Scenario.SendAsync(survivor.Config!.MxPort, Scenario.NewMessage(control, "T83 control"));
        await sink.WaitForRecipientAsync(control, TimeSpan.FromSeconds(60));
        var waiting = await QueueApiClient.GetJsonAsync(http, "/api/v1/queues/d1.test", HttpStatusCode.OK);
        Assert.Equal(1, waiting.GetProperty("messages")[0].GetProperty("recipients")[0].GetProperty("attempts").GetInt32());
        Assert.DoesNotContain(sink.Messages, m => m.Recipients.Contains(held, StringComparer.OrdinalIgnoreCase) || m.Recipients.Contains(suspended, StringComparer.OrdinalIgnoreCase));

        // Resume and release through the survivors: both are delivered.
        await QueueApiClient.SendAsync(http, HttpMethod.Delete, "/api/v1/suspensions/d1.test", HttpStatusCode.OK);
        await sink.WaitForRecipientAsync(suspended, TimeSpan.FromSeconds(60));
        var other = nodes.First(n => n != victim && n != survivor);
        using (var third = QueueApiClient.For(other.Config!))
        {
            // Released, it is due at its next attempt as scheduled (5 minutes after the 451, as postsuper -H); a flush
            // now counts it and sends it at once.
            await QueueApiClient.SendAsync(third, HttpMethod.Post, $"/api/v1/messages/{heldId}/release", HttpStatusCode.OK);
            Assert.Equal(1, (await QueueApiClient.SendAsync(third, HttpMethod.Post, "/api/v1/queues/d0.test/flush", HttpStatusCode.OK)).GetProperty("flushed").GetInt32());
        }

        await sink.WaitForRecipientAsync(held, TimeSpan.FromSeconds(60));
        await QueueWait.UntilEmptyAsync(survivor.Config!, "d0.test", "d1.test");
    }

    /// <summary>The node whose log shows <paramref name="text"/> (within 60 s).</summary>
    private static async Task<ClusterNode> HostOfAsync(IReadOnlyList<ClusterNode> nodes, string text)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            if (nodes.FirstOrDefault(n => n.Process!.Log.Contains(text, StringComparison.Ordinal)) is { } host)
            {
                return host;
            }
        }

        throw new TimeoutException($"no node logged '{text}'");
    }

    /// <summary>Lists until <paramref name="until"/> holds, going through the 503s of a fail-over in progress.</summary>
    private static async Task<JsonElement> PollAsync(HttpClient http, string path, Func<JsonElement, bool> until)
    {
        string last = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(90); DateTime.UtcNow < deadline; await Task.Delay(500))
        {
            try
            {
                using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
                last = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var json = JsonDocument.Parse(last).RootElement.Clone();
                    if (until(json))
                    {
                        return json;
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message;
            }
        }

        throw new TimeoutException($"{path} did not reach the expected state; last answer: {last}");
    }

    private static string Id(string reply) => reply[(reply.LastIndexOf(' ') + 1)..];
}
