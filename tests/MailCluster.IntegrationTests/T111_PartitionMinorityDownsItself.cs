using System.Globalization;
using System.Text.RegularExpressions;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T111 (issue 19): a network partition of one node from the other two, the harder case: the cut-off node still
/// reaches PostgreSQL (<see cref="PartitionNetwork"/>: two nodes here on 10.211.1.1, the third in a namespace of its
/// own with a cluster link that is cut and a service link to the database that stays). Under load on both sides:
/// the minority downs itself (keep-majority) and exits; the majority carries on delivering; from the moment the
/// minority itself reports the others unreachable it never answers 250 (421 or 451 only, then refused connections
/// once it has exited); the link is restored and the node, started again as Kubernetes would, rejoins. Every message
/// either side answered 250 is delivered; duplicate copies are counted and reported.
/// </summary>
public partial class T111_PartitionMinorityDownsItself
{
    /// <summary>A 250 whose commit passed the fence just before the minority marked the others unreachable arrives
    /// after that mark by one database commit and the reply's way back (the mark's time is Akka's log time stamp).</summary>
    private static readonly TimeSpan CommitInFlight = TimeSpan.FromSeconds(2);

    /// <summary>The majority's load, sized to go on through the cut and the downing of the minority (it was 3,000).</summary>
    private const int MajorityMessages = 2200;

    [Fact]
    public async Task The_cut_off_node_stops_accepting_and_nothing_accepted_is_lost()
    {
        await using var net = await PartitionNetwork.CreateAsync("mc-t111");
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 20,
            startPostgres: () => PostgresServer.StartAsync(PartitionNetwork.HostServiceAddress, PartitionNetwork.InsideServiceAddress + "/32"));
        var nodes = cluster.AddNodes(3);
        var hosts = new[] { PartitionNetwork.HostClusterAddress, PartitionNetwork.HostClusterAddress, PartitionNetwork.InsideClusterAddress };
        foreach (var (node, i) in nodes.Select((n, i) => (n, i)))
        {
            var env = node.Config!.Environment;
            env["MailCluster__Cluster__Host"] = hosts[i];
            for (var s = 0; s < nodes.Count; s++)
            {
                env[$"MailCluster__Cluster__Seeds__{s}"] = string.Create(CultureInfo.InvariantCulture, $"{hosts[s]}:{nodes[s].ClusterPort}");
            }
        }

        var minority = nodes[2];
        minority.Config!.Environment["MailCluster__Storage__ConnectionString"] =
            cluster.ConnectionString.Replace("Host=127.0.0.1", "Host=" + PartitionNetwork.HostServiceAddress, StringComparison.Ordinal);
        minority.Config.Environment["MailCluster__Smtp__TrustedNetworks__1"] = "10.211.2.0/24";

        // A message to a domain queue on the other side waits out the enqueue timeout once the link is cut; a short one
        // keeps the minority's clients cycling, so that some always reach its own queues, where the fence decides.
        minority.Config.Environment["MailCluster__Queue__EnqueueTimeoutSeconds"] = "2";

        // Inside its namespace the minority reaches neither dnsmasq nor the sink on this host's loopback: its deliveries
        // take a route per domain to a relay to the sink on the service link (the others deliver through MX records).
        await using var sinkRelay = new TcpRelay(System.Net.IPAddress.Parse(PartitionNetwork.HostServiceAddress), cluster.Scenario.Sink.Port);
        foreach (var (domain, i) in cluster.Domains.Select((d, i) => (d, i)))
        {
            minority.Config.Environment[$"MailCluster__Outbound__Domains__{i}__Name"] = domain;
            minority.Config.Environment[$"MailCluster__Outbound__Domains__{i}__Route"] =
                string.Create(CultureInfo.InvariantCulture, $"smtp:{PartitionNetwork.HostServiceAddress}:{sinkRelay.Port}");
        }

        await Task.WhenAll(cluster.StartAsync(nodes[0], "node0"), cluster.StartAsync(nodes[1], "node1"), StartMinorityAsync(net, minority, "minority"));
        await ClusterHarness.WaitForClusterAsync(nodes[0], v => ClusterHarness.UpMembers(v) == 3, TimeSpan.FromSeconds(90), "three members Up");

        var majorityPorts = new[] { nodes[0].Config!.MxPort, nodes[1].Config!.MxPort };
        var majorityLoad = SmtpLoad.RunAsync(() => majorityPorts, ClusterHarness.Messages("t111", MajorityMessages, cluster.Domains), workers: 8, TimeSpan.FromMinutes(4));
        using var stopMinorityLoad = new CancellationTokenSource();
        var minorityLoad = ProbeMinorityAsync(minority, cluster.Domains, workers: 8, stopMinorityLoad.Token);
        await WaitForDeliveredAsync(cluster, 400);

        await net.CutAsync();
        var cut = DateTimeOffset.UtcNow;
        var cutOffSeen = await FirstSeenCutOffAsync(minority, cut, TimeSpan.FromSeconds(60));
        var exitCode = await minority.Process!.WaitForExitAsync(TimeSpan.FromSeconds(90)); // downed: it leaves and exits
        await ClusterHarness.WaitForClusterAsync(nodes[0], v => v.GetProperty("members").GetArrayLength() == 2 && ClusterHarness.UpMembers(v) == 2,
            TimeSpan.FromSeconds(60), "the majority of two after the minority was downed");
        await stopMinorityLoad.CancelAsync();
        var minorityResult = await minorityLoad;
        var fencedInLog = minority.Process.Log.Split('\n').Count(l => l.Contains("not a majority", StringComparison.Ordinal));

        await net.RestoreAsync();
        await StartMinorityAsync(net, minority, "minority-restarted");
        await ClusterHarness.WaitForClusterAsync(nodes[0], v => ClusterHarness.UpMembers(v) == 3, TimeSpan.FromSeconds(90), "the restarted node Up again");

        var majorityResult = await majorityLoad;
        var accepted = majorityResult.Accepted.Keys.Concat(minorityResult.AcceptedIds).ToList();
        var minorityAfterCut = minorityResult.Replies.Where(r => r.At > cut).ToList();
        var copies = await cluster.WaitForDeliveriesAsync(accepted, TimeSpan.FromMinutes(3));
        var lost = accepted.Where(id => !copies.ContainsKey(id)).ToList();
        var lateAccepts = minorityResult.AcceptedAt.Where(a => a.Value > cutOffSeen + CommitInFlight).ToList();
        var otherReplies = minorityAfterCut.Where(r => r.Reply is { } reply && !reply.StartsWith("421", StringComparison.Ordinal)
            && !reply.StartsWith("451", StringComparison.Ordinal) && !reply.StartsWith("250", StringComparison.Ordinal)).ToList();
        var report = string.Create(CultureInfo.InvariantCulture,
            $"T111: majority {majorityResult.Accepted.Count}/{MajorityMessages} answered 250; minority {minorityResult.AcceptedAt.Count} answered 250 " +
            $"({minorityResult.AcceptedAt.Count(a => a.Value > cut)} after the cut, before it saw the others unreachable {(cutOffSeen - cut).TotalSeconds:F1} s after the cut), " +
            $"{lateAccepts.Count} after that; minority after the cut: {minorityAfterCut.Count} attempts " +
            $"({string.Join(", ", minorityAfterCut.GroupBy(r => r.Reply?[..3] ?? "broken or refused").Select(g => $"{g.Key}: {g.Count()}"))}); " +
            $"{fencedInLog} acceptances refused by the fence; minority exit code {exitCode}; {lost.Count} lost, {copies.Values.Sum(c => c - 1)} duplicate copies");
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        Console.WriteLine(report);

        Assert.Empty(lost);
        Assert.Equal(MajorityMessages, majorityResult.Accepted.Count);
        Assert.False(minorityResult.AcceptedAt.IsEmpty, "the minority accepted nothing before the cut, so the scenario proved nothing");
        Assert.Empty(lateAccepts);
        Assert.Empty(otherReplies);
    }

    /// <summary>What the minority answered: every attempt a fresh message on a new connection, never retried.</summary>
    private sealed class MinorityReplies
    {
        public System.Collections.Concurrent.ConcurrentBag<(DateTimeOffset At, string? Reply)> Replies { get; } = [];

        public System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> AcceptedAt { get; } = new(StringComparer.Ordinal);

        public ICollection<string> AcceptedIds => AcceptedAt.Keys;
    }

    private static async Task<MinorityReplies> ProbeMinorityAsync(ClusterNode minority, IReadOnlyList<string> domains, int workers, CancellationToken stop)
    {
        var result = new MinorityReplies();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref next);
                var message = new LoadMessage(string.Create(CultureInfo.InvariantCulture, $"t111-min-{i}@load.test"), "sender@example.org",
                    [string.Create(CultureInfo.InvariantCulture, $"user{i}@{domains[i % domains.Count]}")]);
                var reply = await SmtpLoad.ProbeAsync(PartitionNetwork.InsideServiceAddress, minority.Config!.MxPort, message);
                result.Replies.Add((DateTimeOffset.UtcNow, reply));
                if (reply?.StartsWith("250", StringComparison.Ordinal) == true)
                {
                    result.AcceptedAt[message.MessageId] = DateTimeOffset.UtcNow;
                }
                else if (reply is null)
                {
                    await Task.Delay(200, CancellationToken.None);
                }
            }
        }, CancellationToken.None)));
        return result;
    }

    private static async Task StartMinorityAsync(PartitionNetwork net, ClusterNode node, string name)
    {
        node.Process = NodeProcess.Start(node.Config!.Environment, name, [], standardInput: null, net.Namespace.Exec);
        await node.Process.WaitReadyAsync(PartitionNetwork.InsideServiceAddress, node.Config.OpsPort, TimeSpan.FromSeconds(90));
    }

    /// <summary>When the minority itself marked the others unreachable after <paramref name="cut"/>: the time stamp
    /// (UTC) of Akka's log line.</summary>
    private static async Task<DateTimeOffset> FirstSeenCutOffAsync(ClusterNode minority, DateTimeOffset cut, TimeSpan timeout)
    {
        const string Marking = "Marking node(s) as UNREACHABLE";
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (DateTimeOffset.UtcNow < deadline)
        {
            var marked = minority.Process!.Log.Split('\n')
                .Where(l => l.Contains(Marking, StringComparison.Ordinal))
                .Select(l => AkkaTimeStamp().Match(l))
                .Where(m => m.Success)
                .Select(m => DateTimeOffset.ParseExact(m.Groups[1].Value, "MM/dd/yyyy HH:mm:ss.fff", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal))
                .Where(at => at >= cut.AddSeconds(-1))
                .ToList();
            if (marked.Count > 0)
            {
                return marked.Min();
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the minority never marked the others unreachable within {timeout}:\n{minority.Process!.Tail(60)}");
    }

    [GeneratedRegex(@"\]\[(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{3})Z\]")]
    private static partial Regex AkkaTimeStamp();

    private static async Task WaitForDeliveredAsync(ClusterHarness cluster, int count)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (cluster.Scenario.Sink.Messages.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
    }
}
