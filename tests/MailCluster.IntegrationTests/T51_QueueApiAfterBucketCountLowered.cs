using System.Globalization;
using System.Net;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T51: an operator lowers a hot domain's bucket count (8 → 4). Mail queued in buckets #4..#7 stays there (they are
/// remembered entities and keep delivering), and queue administration must still see it. A two-node cluster on
/// PostgreSQL: node 0 delivers (it hosts every domain-queue entity), node 1 is edge only, so everything its ops API
/// answers comes from another node. The sink answers 451 and retries are 5 minutes apart, so mail stays queued. After
/// both nodes are killed and restarted with 4 buckets, node 1's API lists every message in its old bucket, pages
/// through them, deletes one and bounces another from the old buckets, and a flush delivers the rest at once.
/// </summary>
public class T51_QueueApiAfterBucketCountLowered
{
    private const string Domain = Scenario.RelayDomain;
    private const string Buckets = "MailCluster__Queue__Buckets__0__Count";

    [Fact]
    public async Task Lowered_bucket_count_leaves_old_buckets_administrable()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 0);
        var accepting = false;
        cluster.Scenario.Sink.AddRule((stage, _) => stage == SmtpStage.DataEnd && !Volatile.Read(ref accepting) ? "451 4.3.0 mailbox busy, try later" : null);
        var nodes = cluster.AddNodes(2, new Dictionary<string, string>
        {
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
            ["MailCluster__Queue__Buckets__0__Domain"] = Domain,
            [Buckets] = "8",
        });
        nodes[1].Config!.Environment["MailCluster__Cluster__Roles__0"] = "edge";
        await cluster.StartAllAsync();
        await ClusterHarness.WaitForClusterAsync(nodes[1], v => ClusterHarness.UpMembers(v) == 2, TimeSpan.FromSeconds(30), "2 members up");
        using var delivery = Http(nodes[0]);
        using var edge = Http(nodes[1]);

        // Mail until at least three messages sit in buckets #4..#7 (a message's bucket is a hash of its id), each
        // deferred once.
        string sender = $"alice@{Scenario.SenderDomain}";
        var recipientOf = new Dictionary<string, string>(StringComparer.Ordinal);
        Dictionary<string, string> queueOf = [];
        for (var round = 0; round < 6 && queueOf.Values.Count(IsOldBucket) < 3; round++)
        {
            for (var i = 0; i < 8; i++)
            {
                var to = string.Create(CultureInfo.InvariantCulture, $"u{recipientOf.Count}@{Domain}");
                var reply = await Scenario.SendAsync(nodes[0].Config!.MxPort, Scenario.NewMessage(to, "T51 " + to, sender));
                recipientOf[reply[(reply.LastIndexOf(' ') + 1)..]] = to;
            }

            var before = await QueueApiClient.PollAsync(delivery, $"/api/v1/queues/{Domain}?limit=1000", l =>
                l.GetProperty("total").GetInt32() == recipientOf.Count && Messages(l).All(m => Recipient(m).GetProperty("attempts").GetInt32() == 1));
            Assert.Equal(recipientOf.Count, before.GetProperty("total").GetInt32());
            queueOf = Messages(before).ToDictionary(m => m.GetProperty("id").GetString()!, m => m.GetProperty("queue").GetString()!, StringComparer.Ordinal);
        }

        var old = queueOf.Where(kv => IsOldBucket(kv.Value)).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        Assert.True(old.Count >= 3, $"only {old.Count} of {queueOf.Count} messages in buckets #4..#7");

        // The operator lowers the count to 4; the whole cluster restarts (kill -9: nothing is handed off).
        foreach (var node in nodes)
        {
            node.Process!.Kill();
            node.Config!.Environment[Buckets] = "4";
        }

        await Task.WhenAll(nodes.Select((n, i) => cluster.StartAsync(n, $"node{i}-4-buckets")));

        // Listed from the edge-only node: every message, in the bucket it was queued in.
        var after = await QueueApiClient.PollAsync(edge, $"/api/v1/queues/{Domain}?limit=1000", l => l.GetProperty("total").GetInt32() == queueOf.Count, TimeSpan.FromSeconds(60));
        Assert.Equal(queueOf.Count, after.GetProperty("total").GetInt32());
        Assert.Empty(after.GetProperty("unanswered").EnumerateArray());
        var queues = after.GetProperty("queues").EnumerateArray().Select(q => q.GetString()!).ToList();
        Assert.Equal([Domain, $"{Domain}#0", $"{Domain}#1", $"{Domain}#2", $"{Domain}#3"], queues.Take(5));
        Assert.All(queueOf.Values.Distinct(), q => Assert.Contains(q, queues));
        Assert.Equal(queueOf, Messages(after).ToDictionary(m => m.GetProperty("id").GetString()!, m => m.GetProperty("queue").GetString()!, StringComparer.Ordinal));
        Assert.Equal(queueOf.Count, (await QueueApiClient.GetJsonAsync(delivery, $"/api/v1/queues/{Domain}?limit=1000", HttpStatusCode.OK)).GetProperty("total").GetInt32());

        // Paged two at a time across the old and new buckets: every message once.
        var paged = new List<string>();
        for (int? offset = 0; offset is { } o;)
        {
            var page = await QueueApiClient.GetJsonAsync(edge, string.Create(CultureInfo.InvariantCulture, $"/api/v1/queues/{Domain}?limit=2&offset={o}"), HttpStatusCode.OK);
            paged.AddRange(Messages(page).Select(m => m.GetProperty("id").GetString()!));
            offset = page.GetProperty("nextOffset").ValueKind == JsonValueKind.Number ? page.GetProperty("nextOffset").GetInt32() : null;
        }

        Assert.Equal(queueOf.Keys.Order(StringComparer.Ordinal), paged.Order(StringComparer.Ordinal));

        // postsuper -d on a message in an old bucket, then again (gone).
        string deleted = old[0], bounced = old[1];
        var delete = await QueueApiClient.SendAsync(edge, HttpMethod.Delete, $"/api/v1/queues/{Domain}/messages/{deleted}", HttpStatusCode.OK);
        Assert.Equal(queueOf[deleted], delete.GetProperty("queue").GetString());
        await QueueApiClient.SendAsync(edge, HttpMethod.Delete, $"/api/v1/queues/{Domain}/messages/{deleted}", HttpStatusCode.NotFound);

        // Bounce now, from an old bucket: the sender gets the DSN.
        Volatile.Write(ref accepting, true);
        var bounce = await QueueApiClient.SendAsync(edge, HttpMethod.Post, $"/api/v1/queues/{Domain}/messages/{bounced}/bounce", HttpStatusCode.OK);
        Assert.Equal(queueOf[bounced], bounce.GetProperty("queue").GetString());
        var dsn = await cluster.Scenario.Sink.WaitForDsnAsync(sender, TimeSpan.FromSeconds(30));
        Assert.Equal("failed", dsn.Recipient(recipientOf[bounced])["Action"]);

        // postqueue -f: the rest, old buckets included, goes now rather than in 5 minutes.
        var flush = await QueueApiClient.SendAsync(edge, HttpMethod.Post, $"/api/v1/queues/{Domain}/flush", HttpStatusCode.OK);
        Assert.Equal(queueOf.Count - 2, flush.GetProperty("flushed").GetInt32());
        foreach (var id in queueOf.Keys.Where(id => id != deleted && id != bounced))
        {
            await cluster.Scenario.Sink.WaitForRecipientAsync(recipientOf[id], TimeSpan.FromSeconds(60));
        }

        Assert.Equal(0, (await QueueApiClient.PollAsync(edge, $"/api/v1/queues/{Domain}", l => l.GetProperty("total").GetInt32() == 0)).GetProperty("total").GetInt32());
        Assert.DoesNotContain(cluster.Scenario.Sink.Messages, m => m.Recipients.Contains(recipientOf[deleted], StringComparer.OrdinalIgnoreCase));
        Assert.DoesNotContain(cluster.Scenario.Sink.Messages, m => m.Recipients.Contains(recipientOf[bounced], StringComparer.OrdinalIgnoreCase));
    }

    private static bool IsOldBucket(string queue) => queue is $"{Domain}#4" or $"{Domain}#5" or $"{Domain}#6" or $"{Domain}#7";

    private static HttpClient Http(ClusterNode node) => QueueApiClient.For(node.Config!, timeout: TimeSpan.FromSeconds(30));

    private static JsonElement.ArrayEnumerator Messages(JsonElement listing) => listing.GetProperty("messages").EnumerateArray();

    private static JsonElement Recipient(JsonElement message) => Assert.Single(message.GetProperty("recipients").EnumerateArray().ToList());
}
