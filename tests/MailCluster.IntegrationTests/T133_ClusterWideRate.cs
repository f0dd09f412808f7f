using System.Globalization;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T133 (issue 19 target 5): a destination's rate holds across buckets and nodes. Three nodes on PostgreSQL; d0.test
/// is split into 4 buckets (queues spread over the nodes) and allows 20 messages a minute
/// (<c>MailCluster__Outbound__Domains__0__RatePerMinute=20</c>); 36 messages are accepted on all three nodes at once.
/// Each node shaping alone would start up to 20 a minute (60 in all, so all 36 in the first seconds); the domain's gate
/// entity grants starts to the whole cluster, so the sink sees 20, then the rest once the first leave the window.
/// The sink records when each MAIL command arrives: in every window of one minute it never sees more than 20, less the
/// documented tolerance (ARCHITECTURE.md, shaping across nodes): the gate counts a start when it grants it and the
/// sink sees it one grant-to-MAIL latency later, so the window measured at the sink may be shorter by that latency's
/// spread; 1 s is allowed (batches are of one start at this rate, so there is no allowance excess).
/// </summary>
public class T133_ClusterWideRate
{
    private const int Rate = 20;
    private const int Count = 36;
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan LatencySpread = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Three_nodes_share_the_domains_twenty_messages_a_minute()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 1);
        var mails = new List<DateTimeOffset>();
        cluster.Scenario.Sink.AddRule((stage, _) =>
        {
            if (stage == SmtpStage.Mail)
            {
                lock (mails)
                {
                    mails.Add(DateTimeOffset.UtcNow);
                }
            }

            return null;
        });
        var nodes = cluster.AddNodes(3, new Dictionary<string, string>
        {
            ["MailCluster__Queue__Buckets__0__Domain"] = "d0.test",
            ["MailCluster__Queue__Buckets__0__Count"] = "4",
            ["MailCluster__Outbound__Domains__0__Name"] = "d0.test",
            ["MailCluster__Outbound__Domains__0__RatePerMinute"] = Rate.ToString(CultureInfo.InvariantCulture),
        });
        await cluster.StartAllAsync();

        var messages = ClusterHarness.Messages("t133", Count, cluster.Domains);
        var load = await SmtpLoad.RunAsync(cluster.LivePorts, messages, workers: 6, TimeSpan.FromMinutes(1));
        Assert.Equal(messages.Count, load.Accepted.Count);
        Assert.Equal(3, load.AcceptedPerPort().Count); // every node accepts part of the mail

        // The premise: the buckets run on more than one node (least-shard allocation spreads new shards).
        var view = await ClusterHarness.WaitForClusterAsync(nodes[0], v => HostsWithEntities(v) >= 2,
            TimeSpan.FromSeconds(30), "bucket entities running on two nodes or more");
        var hosts = HostsWithEntities(view);

        var copies = await cluster.WaitForDeliveriesAsync([.. load.Accepted.Keys], TimeSpan.FromMinutes(3));
        List<DateTimeOffset> seen;
        lock (mails)
        {
            seen = [.. mails.Order()];
        }

        Assert.NotEmpty(seen);
        var busiest = Enumerable.Range(0, seen.Count)
            .Select(i => (Start: seen[i], In: seen.Skip(i).TakeWhile(t => t < seen[i] + Window - LatencySpread).Count()))
            .MaxBy(w => w.In);
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"T133: {seen.Count} MAIL commands from {seen[0]:HH:mm:ss.fff} to {seen[^1]:HH:mm:ss.fff}; at most {busiest.In} within " +
            $"{(Window - LatencySpread).TotalSeconds} s (from {busiest.Start:HH:mm:ss.fff}); buckets on {hosts} nodes; " +
            $"{copies.Count} of {Count} delivered, {copies.Values.Sum(c => c - 1)} duplicate copies"));

        var lost = load.Accepted.Keys.Where(id => !copies.ContainsKey(id)).ToList();
        Assert.Empty(lost);
        Assert.True(busiest.In <= Rate, $"{busiest.In} messages started within a minute from {busiest.Start:O}; the rate is {Rate}");
        Assert.True(seen[^1] - seen[0] >= Window - LatencySpread, "the rate held the second batch back a minute");
    }

    private static int HostsWithEntities(System.Text.Json.JsonElement view) =>
        view.GetProperty("shardHosts").EnumerateArray().Count(h => h.GetProperty("entities").GetInt32() > 0);
}
