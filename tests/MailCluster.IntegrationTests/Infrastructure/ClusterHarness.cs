using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using MailCluster.Testing;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// A MailCluster cluster for T4x scenarios: a real PostgreSQL (journal, snapshots, sharding state, spool), the
/// <see cref="Scenario"/> world (dnsmasq with MX records for <see cref="Domains"/> → the scripted sink), and
/// nodes that seed from each other's static addresses. Failure detection and rebalancing are shortened through
/// the same configuration keys an operator uses, so failover takes seconds in tests.
/// </summary>
public sealed class ClusterHarness : IAsyncDisposable
{
    private readonly List<ClusterNode> _nodes = [];

    private ClusterHarness(PostgresServer postgres, string connectionString, Scenario scenario, IReadOnlyList<string> domains)
    {
        Postgres = postgres;
        ConnectionString = connectionString;
        Scenario = scenario;
        Domains = domains;
    }

    public PostgresServer Postgres { get; }

    public string ConnectionString { get; }

    public Scenario Scenario { get; }

    /// <summary>Destination domains <c>d0.test</c> … whose MX is the sink.</summary>
    public IReadOnlyList<string> Domains { get; }

    public IReadOnlyList<ClusterNode> Nodes => _nodes;

    /// <param name="startPostgres">Starts the database (a partition scenario makes it listen on a namespace link too).</param>
    public static async Task<ClusterHarness> StartAsync(int domainCount, IEnumerable<string>? extraRecords = null, Func<Task<PostgresServer>>? startPostgres = null)
    {
        var postgres = await (startPostgres ?? (() => PostgresServer.StartAsync()))();
        try
        {
            var connectionString = await postgres.CreateDatabaseAsync("mailcluster");
            var domains = Enumerable.Range(0, domainCount).Select(i => string.Create(CultureInfo.InvariantCulture, $"d{i}.test")).ToList();
            var scenario = await Scenario.StartAsync([.. domains.Select(d => DnsmasqServer.Mx(d, "mx1.relay.test", 10)), .. extraRecords ?? []]);
            return new ClusterHarness(postgres, connectionString, scenario, domains);
        }
        catch
        {
            await postgres.DisposeAsync();
            throw;
        }
    }

    /// <summary>Configures <paramref name="count"/> nodes seeding from each other (not started).</summary>
    public IReadOnlyList<ClusterNode> AddNodes(int count, IDictionary<string, string>? extra = null)
    {
        var added = Enumerable.Range(0, count).Select(_ => new ClusterNode(FreePort.Tcp())).ToList();
        _nodes.AddRange(added);
        foreach (var node in added)
        {
            node.Config = Scenario.NewNodeConfig(Environment(node, extra));
        }

        return added;
    }

    /// <summary>The environment of a cluster node; the seeds are the first three nodes (or all, when fewer).</summary>
    public Dictionary<string, string> Environment(ClusterNode node, IDictionary<string, string>? extra)
    {
        ArgumentNullException.ThrowIfNull(node);
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MailCluster__Storage__Provider"] = "PostgreSql",
            ["MailCluster__Storage__ConnectionString"] = ConnectionString,
            ["MailCluster__Cluster__Port"] = node.ClusterPort.ToString(CultureInfo.InvariantCulture),
            ["MailCluster__Cluster__StableAfterSeconds"] = "3",
            ["MailCluster__Cluster__HeartbeatPauseSeconds"] = "4",
            ["MailCluster__Cluster__RebalanceIntervalSeconds"] = "2",
            ["MailCluster__Smtp__TrustedNetworks__0"] = "127.0.0.0/8",
            ["MailCluster__Smtp__DrainTimeoutSeconds"] = "10",
            ["MailCluster__Queue__EnqueueTimeoutSeconds"] = "10",
            ["MailCluster__Queue__CommitGraceSeconds"] = "15",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__MailCluster.Host"] = "Information",
        };
        for (var i = 0; i < Math.Min(3, _nodes.Count); i++)
        {
            env[$"MailCluster__Cluster__Seeds__{i}"] = $"127.0.0.1:{_nodes[i].ClusterPort}";
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        return env;
    }

    /// <summary>Starts (or restarts, after a kill) the node and waits until it is ready.</summary>
    public async Task StartAsync(ClusterNode node, string name)
    {
        ArgumentNullException.ThrowIfNull(node);
        node.Process = await Scenario.StartNodeAsync(node.Config!, name);
    }

    public Task StartAllAsync() => Task.WhenAll(_nodes.Select((n, i) => StartAsync(n, $"node{i}")));

    /// <summary>The SMTP ports of nodes that are running.</summary>
    public IReadOnlyList<int> LivePorts() =>
        [.. _nodes.Where(n => n.Process is { HasExited: false }).Select(n => n.Config!.MxPort)];

    public static async Task<JsonElement> GetClusterAsync(ClusterNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        using var http = QueueApiClient.For(node.Config!, timeout: TimeSpan.FromSeconds(10));
        return await http.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/cluster", UriKind.Relative));
    }

    /// <summary>Polls <see cref="GetClusterAsync"/> on <paramref name="node"/> until <paramref name="condition"/> holds.</summary>
    public static async Task<JsonElement> WaitForClusterAsync(ClusterNode node, Func<JsonElement, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await GetClusterAsync(node);
                if (condition(last))
                {
                    return last;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"Cluster did not reach '{what}' within {timeout}; last view: {last}");
    }

    /// <summary>Shards per hosting node address, from a cluster view.</summary>
    public static Dictionary<string, int> ShardsByHost(JsonElement view) =>
        view.GetProperty("shardHosts").EnumerateArray().ToDictionary(h => h.GetProperty("address").GetString()!, h => h.GetProperty("shards").GetInt32());

    public static int UpMembers(JsonElement view) =>
        view.GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "Up" && m.GetProperty("reachable").GetBoolean());

    /// <summary>Waits until the sink has a copy of every id in <paramref name="expected"/>; returns copies per id.</summary>
    public async Task<Dictionary<string, int>> WaitForDeliveriesAsync(IReadOnlyCollection<string> expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var copies = Scenario.Sink.Messages
                .Select(m => SmtpLoad.MessageIdOf(m.Data))
                .Where(id => id is not null)
                .GroupBy(id => id!, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            if (expected.All(copies.ContainsKey) || DateTime.UtcNow > deadline)
            {
                return copies;
            }

            await Task.Delay(500);
        }
    }

    public static IReadOnlyList<LoadMessage> Messages(string prefix, int count, IReadOnlyList<string> domains) =>
        [.. Enumerable.Range(0, count).Select(i => new LoadMessage(
            string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}@load.test"),
            "sender@example.org",
            [string.Create(CultureInfo.InvariantCulture, $"user{i}@{domains[i % domains.Count]}")]))];

    public async ValueTask DisposeAsync()
    {
        await Scenario.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}

public sealed class ClusterNode(int clusterPort)
{
    public int ClusterPort { get; } = clusterPort;

    public NodeConfig? Config { get; set; }

    public NodeProcess? Process { get; set; }

    /// <summary>The Akka address this node has in <c>/api/v1/cluster</c>.</summary>
    public string Address => string.Create(CultureInfo.InvariantCulture, $"akka.tcp://mailcluster@127.0.0.1:{ClusterPort}");
}
