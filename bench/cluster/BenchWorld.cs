using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using MailCluster.Testing;

namespace MailCluster.ClusterBench;

/// <summary>PostgreSQL + dnsmasq + sink + N nodes seeding from each other, configured as T4x scenarios do.</summary>
internal sealed class BenchWorld : IAsyncDisposable
{
    private readonly List<(Dictionary<string, string> Env, int Mx, int Ops, List<NodeProcess> Runs)> _nodes = [];
    private readonly PostgresServer _postgres;
    private readonly DnsmasqServer _dns;
    private readonly ScriptedSmtpServer _sink;
    private readonly string _data;
    private readonly List<string> _domains;
    private readonly string _adminToken = "mct_bench_" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");

    private BenchWorld(PostgresServer postgres, DnsmasqServer dns, ScriptedSmtpServer sink, string data, List<string> domains)
    {
        (_postgres, _dns, _sink, _data, _domains) = (postgres, dns, sink, data, domains);
    }

    private string AdminTokenFile => Path.Combine(_data, "bench-admin.token");

    public static async Task<BenchWorld> StartAsync(int nodes, int domains, bool deliverable = true)
    {
        var postgres = await PostgresServer.StartAsync();
        var connection = await postgres.CreateDatabaseAsync("bench");
        var names = Enumerable.Range(0, domains).Select(i => $"d{i}.test").ToList();
        var dns = await DnsmasqServer.StartAsync([DnsmasqServer.HostRecord("mx1.relay.test", "127.0.0.1"), .. names.Select(d => DnsmasqServer.Mx(d, "mx1.relay.test", 10))]);
        var world = new BenchWorld(postgres, dns, new ScriptedSmtpServer(), Path.Combine(Path.GetTempPath(), "mc-bench-" + Guid.NewGuid().ToString("N")[..8]), names);
        var clusterPorts = Enumerable.Range(0, nodes).Select(_ => FreePort.Tcp()).ToList();
        Directory.CreateDirectory(world._data);
        await File.WriteAllTextAsync(world.AdminTokenFile, world._adminToken); // the ops API needs a bearer token
        foreach (var port in clusterPorts)
        {
            var (mx, ops) = (FreePort.Tcp(), FreePort.Tcp());
            var env = new Dictionary<string, string>
            {
                ["MailCluster__DataDir"] = world._data,
                ["MailCluster__Hostname"] = "bench.test",
                ["MailCluster__Smtp__MxPort"] = Invariant(mx),
                ["MailCluster__Smtp__SubmissionPort"] = Invariant(FreePort.Tcp()),
                ["MailCluster__Smtp__SubmissionsPort"] = Invariant(FreePort.Tcp()),
                ["MailCluster__Smtp__TrustedNetworks__0"] = "127.0.0.0/8",
                ["MailCluster__Ops__Port"] = Invariant(ops),
                ["MailCluster__Ops__AdminTokenFile"] = world.AdminTokenFile,
                ["MailCluster__Dns__Servers__0"] = dns.Endpoint,
                ["MailCluster__Outbound__Port"] = Invariant(deliverable ? world._sink.Port : FreePort.Tcp()),
                ["MailCluster__Outbound__AllowPrivateDestinations"] = "true",
                ["MailCluster__Retry__InitialSeconds"] = deliverable ? "1" : "3600",
                ["MailCluster__Retry__MaxSeconds"] = deliverable ? "8" : "3600",
                ["MailCluster__Storage__Provider"] = "PostgreSql",
                ["MailCluster__Storage__ConnectionString"] = connection,
                ["MailCluster__Cluster__Port"] = Invariant(port),
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Akka"] = "Information",

                // UTC time of day on one line per record: FailoverPhases reads the survivors' logs against the kill.
                ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
                ["Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true",
                ["Logging__Console__FormatterOptions__SingleLine"] = "true",
            };
            for (var i = 0; i < nodes; i++)
            {
                env[$"MailCluster__Cluster__Seeds__{i}"] = $"127.0.0.1:{clusterPorts[i]}";
            }

            world._nodes.Add((env, mx, ops, []));
        }

        await Task.WhenAll(Enumerable.Range(0, nodes).Select(world.StartNodeAsync));
        return world;
    }

    public async Task<(int Accepted, double AcceptSeconds, double DeliveredSeconds)> ThroughputAsync(int count, int workers)
    {
        var messages = Messages("tp", count);
        var clock = Stopwatch.StartNew();
        var load = await SmtpLoad.RunAsync(() => [.. _nodes.Select(n => n.Mx)], messages, workers, TimeSpan.FromMinutes(10));
        var accept = clock.Elapsed.TotalSeconds;
        await WaitDeliveredAsync(load.Accepted.Keys.ToHashSet(), TimeSpan.FromMinutes(10));
        return (load.Accepted.Count, accept, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Under load (8 clients over the live nodes), kills (SIGKILL) the node hosting the most shards, then submits a
    /// fresh probe to every domain through the survivors every second, each on its own connection, without waiting
    /// for earlier ones (a probe sent to the dead node before it is downed waits out the enqueue timeout; later ones
    /// must not queue behind it). A domain is back when a probe submitted after the kill is delivered; returns the
    /// seconds from the kill until the last domain is back, and what the failure detectors logged before the kill.
    /// </summary>
    public async Task<FailoverRun> FailoverAsync()
    {
        using var stopLoad = new CancellationTokenSource();
        var load = SmtpLoad.RunAsync(LivePorts, Messages("load", 1_000_000), 8, TimeSpan.FromMinutes(30), cancellationToken: stopLoad.Token);
        await Task.Delay(TimeSpan.FromSeconds(10));
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _adminToken);
        JsonElement[] hosts;
        do
        {
            // Shard hosts are listed once their shards have started (the load's first messages reached them).
            await Task.Delay(TimeSpan.FromSeconds(1));
            var view = await http.GetFromJsonAsync<JsonElement>(new Uri($"http://127.0.0.1:{_nodes[0].Ops}/api/v1/cluster"));
            hosts = [.. view.GetProperty("shardHosts").EnumerateArray()];
        }
        while (hosts.Length == 0);
        var busiest = hosts.OrderByDescending(h => h.GetProperty("shards").GetInt32()).First().GetProperty("address").GetString()!;
        var victim = _nodes.FindIndex(n => busiest.EndsWith(":" + n.Env["MailCluster__Cluster__Port"], StringComparison.Ordinal));
        var detector = FailureDetectorLog.Read(_nodes.Select(n => n.Runs[^1].Log));
        var survivors = _nodes.Where((_, i) => i != victim).Select(n => n.Mx).ToList();
        var clock = Stopwatch.StartNew();
        var killedAt = DateTime.UtcNow;
        _nodes[victim].Runs[^1].Kill();
        var back = await Task.WhenAll(_domains.Select(d => DomainBackAsync(d, survivors, clock, killedAt)));
        await stopLoad.CancelAsync();
        await load;
        var last = back.Max(b => b.Seconds);
        var phases = FailoverPhases.Read(_nodes.Where((_, i) => i != victim).Select(n => n.Runs[^1].Log), killedAt, last);
        return new FailoverRun(last, detector, busiest, killedAt, phases, [.. back.OrderByDescending(b => b.Seconds).Take(3)]);
    }

    /// <summary>
    /// The failure detector under sustained full load, no kill: <paramref name="workers"/> clients over every node for
    /// <paramref name="duration"/>. A healthy cluster must end with every node still up and no UNREACHABLE marking or
    /// downing decision; the worst late heartbeat against the pause is the detector's margin.
    /// </summary>
    public async Task<StabilityRun> StabilityAsync(TimeSpan duration, int workers)
    {
        using var stopLoad = new CancellationTokenSource(duration);
        var clock = Stopwatch.StartNew();
        var result = await SmtpLoad.RunAsync(LivePorts, Messages("soak", 2_000_000), workers, duration + TimeSpan.FromMinutes(1), cancellationToken: stopLoad.Token);
        var seconds = clock.Elapsed.TotalSeconds;
        var logs = _nodes.Select(n => n.Runs[^1].Log).ToList();
        var alive = _nodes.Count(n => !n.Runs[^1].HasExited);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _adminToken);
        var view = await http.GetFromJsonAsync<JsonElement>(new Uri($"http://127.0.0.1:{_nodes[0].Ops}/api/v1/cluster"));
        var up = view.GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "Up");
        var downed = logs.Sum(l => Occurrences(l, "SBR took decision"));
        return new StabilityRun(seconds, result.Accepted.Count, FailureDetectorLog.Read(logs), downed, alive, up);
    }

    private static int Occurrences(string text, string marker)
    {
        var (count, at) = (0, 0);
        while ((at = text.IndexOf(marker, at, StringComparison.Ordinal)) >= 0)
        {
            (count, at) = (count + 1, at + marker.Length);
        }

        return count;
    }

    private IReadOnlyList<int> LivePorts() => [.. _nodes.Where(n => n.Runs.Count > 0 && !n.Runs[^1].HasExited).Select(n => n.Mx)];

    /// <summary>Seconds from the kill to the first delivery of a probe to <paramref name="domain"/> submitted after it
    /// (a new probe every second, the sink polled every 250 ms), and when the first probe was answered 250: a late 250
    /// means the enqueue path (the domain's shard) was down, a late delivery after an early 250 the delivery path.</summary>
    private async Task<DomainBack> DomainBackAsync(string domain, IReadOnlyList<int> survivors, Stopwatch clock, DateTime killedAt)
    {
        var probes = new List<string>();
        var sends = new List<Task<LoadResult>>();
        var deadline = TimeSpan.FromMinutes(3);
        for (var tick = 0; clock.Elapsed < deadline; tick++)
        {
            if (tick % 4 == 0)
            {
                var probe = new LoadMessage($"probe-{domain}-{tick}-{Guid.NewGuid():N}@bench.test", "s@example.org", [$"p@{domain}"]);
                probes.Add(probe.MessageId);
                sends.Add(SmtpLoad.RunAsync(() => survivors, [probe], 1, TimeSpan.FromSeconds(60)));
            }

            if (DeliveredAny(probes))
            {
                var at = clock.Elapsed.TotalSeconds;
                var results = await Task.WhenAll(sends);
                var firstAccepted = results.SelectMany(r => r.AcceptedAt.Values).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
                return new DomainBack(domain, at, firstAccepted == DateTimeOffset.MaxValue ? null : (firstAccepted.UtcDateTime - killedAt).TotalSeconds);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }

        throw new TimeoutException($"no probe to {domain} delivered within {deadline} of the kill");
    }

    private bool DeliveredAny(IEnumerable<string> ids)
    {
        var wanted = ids.ToHashSet(StringComparer.Ordinal);
        return _sink.Messages.Any(m => SmtpLoad.MessageIdOf(m.Data) is { } id && wanted.Contains(id));
    }

    /// <summary>Queues <paramref name="recipients"/> undeliverable recipients (100 per message, one domain), kills the
    /// node, restarts it and times the recovery of the domain queue (its "recovered" log line) and readiness.</summary>
    public async Task<(double Recovered, double Ready)> RecoveryAsync(int recipients)
    {
        var messages = Enumerable.Range(0, recipients / 100)
            .Select(i => new LoadMessage($"rc-{i}@bench.test", "s@example.org", [.. Enumerable.Range(0, 100).Select(r => $"u{i}.{r}@{_domains[0]}")]))
            .ToList();
        var load = await SmtpLoad.RunAsync(() => [_nodes[0].Mx], messages, 16, TimeSpan.FromMinutes(20));
        Console.WriteLine($"recovery: {load.Accepted.Count * 100} recipients queued");
        _nodes[0].Runs[^1].Kill();
        var clock = Stopwatch.StartNew();
        var start = StartNodeAsync(0);
        var node = _nodes[0].Runs[^1];
        await node.WaitForLogAsync($"Domain queue {_domains[0]} recovered", TimeSpan.FromMinutes(10));
        var recovered = clock.Elapsed.TotalSeconds;
        await start;
        return (recovered, clock.Elapsed.TotalSeconds);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var run in _nodes.SelectMany(n => n.Runs))
        {
            await run.DisposeAsync();
        }

        await _sink.DisposeAsync();
        await _dns.DisposeAsync();
        await _postgres.DisposeAsync();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private Task StartNodeAsync(int i)
    {
        var process = NodeProcess.Start(_nodes[i].Env, $"bench-node{i}");
        _nodes[i].Runs.Add(process);
        return process.WaitReadyAsync(_nodes[i].Ops, TimeSpan.FromMinutes(5));
    }

    private List<LoadMessage> Messages(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new LoadMessage($"{prefix}-{i}@bench.test", "s@example.org", [$"u{i}@{_domains[i % _domains.Count]}"]))];

    private async Task WaitDeliveredAsync(IReadOnlySet<string> ids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var seen = _sink.Messages.Select(m => SmtpLoad.MessageIdOf(m.Data)).Where(id => id is not null).ToHashSet();
            if (ids.All(seen.Contains))
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("messages not delivered in time");
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
