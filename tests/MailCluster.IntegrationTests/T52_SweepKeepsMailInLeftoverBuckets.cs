using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using MimeKit;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T52: the orphan sweep after an operator lowered a hot domain's bucket count (8 → 4) while buckets #4..#7 still
/// hold mail. Those buckets are no longer configured, so only bucket discovery knows them; a sweep that asked only the
/// domain and buckets #0..#3 would hear "not held" about their mail and release the bodies, and the mail would be lost
/// when its bucket tried to deliver it.
/// <para>One node on SQLite; the sink answers 451 to DATA and retries are 5 minutes apart, so every message stays
/// queued. Once at least three sit in buckets #4..#7, the node is killed (<c>kill -9</c>) and restarted with 4
/// buckets and the sweep on (first run after 1 s, then every 2 s, minimum age 10 s), the worst case for the two-run
/// rule: the first runs meet the remembered buckets while they are being started again. Over several runs in which
/// every message is old enough to be looked at, nothing is released or deleted, each run's line reports every
/// reference held, and a flush then delivers every message byte for byte, after which their own releases free the
/// bodies.</para>
/// </summary>
public class T52_SweepKeepsMailInLeftoverBuckets
{
    private const string Domain = Scenario.RelayDomain;
    private const string Buckets = "MailCluster__Queue__Buckets__0__Count";
    private const int MinAgeSeconds = 10;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Mail_in_buckets_above_a_lowered_count_keeps_its_body_and_is_delivered()
    {
        await using var scenario = await Scenario.StartAsync();
        var accepting = false;
        scenario.Sink.AddRule((stage, _) => stage == SmtpStage.DataEnd && !Volatile.Read(ref accepting) ? "451 4.3.0 mailbox busy, try later" : null);
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
            ["MailCluster__Queue__Buckets__0__Domain"] = Domain,
            [Buckets] = "8",
            ["MailCluster__Queue__OrphanSweep__Enabled"] = "false",
        });
        var node = await scenario.StartNodeAsync(config, "node-t52");
        using var http = QueueApiClient.For(config);

        // Mail until at least three messages sit in buckets #4..#7 (a message's bucket is a hash of its id), each
        // deferred once.
        var sent = new Dictionary<string, (string To, MimeMessage Message)>(StringComparer.Ordinal);
        Dictionary<string, string> queueOf = [];
        for (var round = 0; round < 6 && queueOf.Values.Count(IsOldBucket) < 3; round++)
        {
            for (var i = 0; i < 8; i++)
            {
                var to = string.Create(CultureInfo.InvariantCulture, $"u{sent.Count}@{Domain}");
                var message = Scenario.NewMessage(to, "T52 " + to);
                var reply = await Scenario.SendAsync(config.MxPort, message);
                sent[reply[(reply.LastIndexOf(' ') + 1)..]] = (to, message);
            }

            var listing = await QueueApiClient.PollAsync(http, $"/api/v1/queues/{Domain}?limit=1000", l =>
                l.GetProperty("total").GetInt32() == sent.Count && Messages(l).All(m => Attempts(m) == 1));
            Assert.Equal(sent.Count, listing.GetProperty("total").GetInt32());
            queueOf = Messages(listing).ToDictionary(m => m.GetProperty("id").GetString()!, m => m.GetProperty("queue").GetString()!, StringComparer.Ordinal);
        }

        var lastSent = DateTime.UtcNow;
        var old = queueOf.Where(kv => IsOldBucket(kv.Value)).Select(kv => kv.Key).ToList();
        Assert.True(old.Count >= 3, $"only {old.Count} of {queueOf.Count} messages in buckets #4..#7");

        // The operator lowers the count to 4 and the node restarts (kill -9) with the sweep on and fast.
        node.Kill();
        config.Environment[Buckets] = "4";
        config.Environment["MailCluster__Queue__OrphanSweep__Enabled"] = "true";
        config.Environment["MailCluster__Queue__OrphanSweep__FirstRunSeconds"] = "1";
        config.Environment["MailCluster__Queue__OrphanSweep__IntervalSeconds"] = "2";
        config.Environment["MailCluster__Queue__OrphanSweep__MinAgeSeconds"] = MinAgeSeconds.ToString(CultureInfo.InvariantCulture);
        config.Environment["MailCluster__Queue__CommitGraceSeconds"] = "2";
        config.Environment["MailCluster__Queue__EnqueueTimeoutSeconds"] = "3";
        config.Environment["Logging__LogLevel__MailCluster.Queue.Sweep.OrphanSweep"] = "Debug"; // the "no orphans" line too
        var restarted = await scenario.StartNodeAsync(config, "node-t52-4-buckets");

        // Several runs in which every message was old enough to be looked at (the two-run rule needs two).
        await PollAsync(() => Task.FromResult(DateTime.UtcNow > lastSent.AddSeconds(MinAgeSeconds + 1)), "time stood still", restarted);
        var runs = await SpoolFile.CompletedSweepsAsync(http);
        await PollAsync(async () => await SpoolFile.CompletedSweepsAsync(http) >= runs + 4, "the sweep did not run four times", restarted);

        var spoolPath = Path.Combine(scenario.DataDir, "spool.db");
        foreach (var id in queueOf.Keys)
        {
            Assert.Equal([Domain], await SpoolFile.ReferencesAsync(spoolPath, id));
        }

        var metrics = PrometheusText.Parse(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        Assert.Equal(0, metrics["mailcluster_spool_sweep_references_released_total"]);
        Assert.Equal(0, metrics["mailcluster_spool_sweep_bodies_deleted_total"]);
        Assert.Equal(0, metrics["mailcluster_spool_sweep_runs_total{result=\"failed\"}"]);
        Assert.Equal(0, metrics["mailcluster_spool_sweep_suspects"]);
        Assert.Matches(AllHeldLine(queueOf.Count), restarted.Log);

        // Still queued where they were, and delivered intact by a flush (old buckets included).
        var after = await QueueApiClient.GetJsonAsync(http, $"/api/v1/queues/{Domain}?limit=1000", HttpStatusCode.OK);
        Assert.Equal(queueOf, Messages(after).ToDictionary(m => m.GetProperty("id").GetString()!, m => m.GetProperty("queue").GetString()!, StringComparer.Ordinal));
        Volatile.Write(ref accepting, true);
        var flush = await QueueApiClient.SendAsync(http, HttpMethod.Post, $"/api/v1/queues/{Domain}/flush", HttpStatusCode.OK);
        Assert.Equal(queueOf.Count, flush.GetProperty("flushed").GetInt32());
        foreach (var (id, (to, message)) in sent)
        {
            var delivered = await scenario.Sink.WaitForRecipientAsync(to, Wait);
            ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(message), delivered.Data);
            await PollAsync(async () => await SpoolFile.ReferencesAsync(spoolPath, id) is null, $"the body of delivered message {id} was not released", restarted);
        }

        Assert.Equal(sent.Count, scenario.Sink.Messages.Count(m => m.Recipients.Any(r => r.EndsWith("@" + Domain, StringComparison.OrdinalIgnoreCase))));
    }

    private static bool IsOldBucket(string queue) => queue is $"{Domain}#4" or $"{Domain}#5" or $"{Domain}#6" or $"{Domain}#7";

    private static JsonElement.ArrayEnumerator Messages(JsonElement listing) => listing.GetProperty("messages").EnumerateArray();

    private static int Attempts(JsonElement message) =>
        Assert.Single(message.GetProperty("recipients").EnumerateArray().ToList()).GetProperty("attempts").GetInt32();

    /// <summary>A run that looked at every message and heard "held" about each (debug line, or the information line
    /// of a run that dropped suspects).</summary>
    private static Regex AllHeldLine(int count) => new(string.Create(CultureInfo.InvariantCulture,
        $@"Spool sweep: {count} bodies older than {MinAgeSeconds} s with {count} references checked; [^\n]*\b{count} references still held by their queues, 0 left because 0 queues did not answer, 0 left because the buckets of 0 domains"));

    private static Task PollAsync(Func<Task<bool>> condition, string failure, NodeProcess node) =>
        SpoolFile.PollAsync(condition, failure, node, Wait);
}
