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
                ["MailCluster__Cluster__StableAfterSeconds"] = "7",
                ["MailCluster__Cluster__HeartbeatPauseSeconds"] = "4",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Akka"] = "Information",
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

    /// <summary>Kills (SIGKILL) the node hosting the most shards, then probes every domain through the survivors until
    /// each has a probe submitted after the kill delivered; returns the seconds from the kill to the last delivery.</summary>
    public async Task<double> FailoverAsync()
    {
        await SmtpLoad.RunAsync(() => [_nodes[0].Mx], Messages("warm", 200), 8, TimeSpan.FromMinutes(2));
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _adminToken);
        var view = await http.GetFromJsonAsync<JsonElement>(new Uri($"http://127.0.0.1:{_nodes[0].Ops}/api/v1/cluster"));
        var busiest = view.GetProperty("shardHosts").EnumerateArray().OrderByDescending(h => h.GetProperty("shards").GetInt32()).First().GetProperty("address").GetString()!;
        var victim = _nodes.FindIndex(n => busiest.EndsWith(":" + n.Env["MailCluster__Cluster__Port"], StringComparison.Ordinal));
        var survivors = _nodes.Where((_, i) => i != victim).Select(n => n.Mx).ToList();
        var clock = Stopwatch.StartNew();
        _nodes[victim].Runs[^1].Kill();
        var probes = _domains.Select(async d =>
        {
            for (var i = 0; ; i++)
            {
                var probe = new LoadMessage($"probe-{d}-{i}@bench.test", "s@example.org", [$"p@{d}"]);
                var result = await SmtpLoad.RunAsync(() => survivors, [probe], 1, TimeSpan.FromSeconds(15));
                if (!result.Accepted.IsEmpty)
                {
                    await WaitDeliveredAsync(new HashSet<string>(StringComparer.Ordinal) { probe.MessageId }, TimeSpan.FromMinutes(2));
                    return clock.Elapsed.TotalSeconds;
                }
            }
        });
        return (await Task.WhenAll(probes)).Max();
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
