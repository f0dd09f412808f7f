using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T55: discovery as the Kubernetes manifests ship it. Three real nodes run in a network namespace made by the test
/// whose resolv.conf is a pod's (<c>search t55.svc.cluster.local svc.cluster.local cluster.local</c>, <c>ndots:5</c>,
/// the name server on the namespace's 127.0.0.1:53), with dnsmasq answering the headless Service's A records only
/// under its fully qualified name <c>mailcluster-nodes.t55.svc.cluster.local</c>. The nodes are given the short name
/// <c>mailcluster-nodes</c> and no <c>MailCluster__Dns__Servers</c>, as in k8s/, and must form one cluster. A node
/// whose short name resolves under no search domain says so in its log, and keeps trying.
/// </summary>
public sealed partial class T55_DiscoveryAsShipped
{
    private const string Namespace = "t55";
    private const string Service = "mailcluster-nodes";
    private const string Fqdn = $"{Service}.{Namespace}.svc.cluster.local";

    private const string PodResolvConf = $"""
        search {Namespace}.svc.cluster.local svc.cluster.local cluster.local
        nameserver 127.0.0.1
        options ndots:5
        """;

    private static readonly string[] Addresses = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];

    [Fact]
    public async Task Nodes_given_the_short_service_name_form_one_cluster_through_the_pods_search_path()
    {
        await using var ns = await NetworkNamespace.CreateAsync("mc-t55", PodResolvConf);
        var dnsLog = new ConcurrentQueue<string>();
        using var dnsmasq = StartDnsmasq(ns, dnsLog, [.. Addresses.Select(a => $"--host-record={Fqdn},{a}")]);
        await WaitForAsync(() => dnsLog.Any(l => l.Contains("started", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), () => "dnsmasq did not start: " + string.Join('\n', dnsLog));

        using var data = new TempDirectory();
        var nodes = new List<NodeProcess>();
        try
        {
            nodes.AddRange(Addresses.Select((address, i) => NodeProcess.Start(NodeEnvironment(address, Service, data.Sub($"n{i}")), $"t55-node{i}", [], null, ns.Exec)));

            foreach (var (node, address) in nodes.Zip(Addresses))
            {
                await WaitForAsync(
                    async () => UpMembers(await MetricsAsync(ns, address)) == 3,
                    TimeSpan.FromSeconds(90),
                    () => $"{node.Name} did not see 3 members up\n{node.Tail(60)}\ndnsmasq:\n{string.Join('\n', dnsLog.TakeLast(30))}");
            }

            foreach (var (node, address) in nodes.Zip(Addresses))
            {
                Assert.Contains($"Discovered seed nodes from {Service} (as {Fqdn})", node.Log, StringComparison.Ordinal);
                var (_, status) = await ns.RunInsideAsync(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", $"http://{address}:8080/healthz/ready"]);
                Assert.Equal("200", status);
            }

            // The records exist only under the fully qualified name: the search path, not the short name, found them.
            Assert.Contains(dnsLog, l => l.Contains($"query[A] {Fqdn}", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_short_name_that_resolves_nowhere_is_reported_and_retried()
    {
        await using var ns = await NetworkNamespace.CreateAsync("mc-t55", PodResolvConf);
        var dnsLog = new ConcurrentQueue<string>();
        using var dnsmasq = StartDnsmasq(ns, dnsLog, [$"--host-record={Fqdn},127.0.0.2"]);
        await WaitForAsync(() => dnsLog.Any(l => l.Contains("started", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), () => string.Join('\n', dnsLog));
        using var data = new TempDirectory();
        await using var node = NodeProcess.Start(NodeEnvironment("127.0.0.2", "mailcluster-nodez", data.Sub("n0")), "t55-misspelt", [], null, ns.Exec);

        await node.WaitForLogAsync("the short name mailcluster-nodez does not resolve (tried mailcluster-nodez.t55.svc.cluster.local", TimeSpan.FromSeconds(60));
        await node.WaitForLogAsync("set MailCluster__Cluster__DiscoveryService to the Service's fully qualified name", TimeSpan.FromSeconds(5));

        // Retried, not given up: the lookups go on after the warning (every 2 s).
        var first = dnsLog.Count(l => l.Contains("query[A] mailcluster-nodez.t55.svc.cluster.local", StringComparison.Ordinal));
        await WaitForAsync(
            () => dnsLog.Count(l => l.Contains("query[A] mailcluster-nodez.t55.svc.cluster.local", StringComparison.Ordinal)) > first,
            TimeSpan.FromSeconds(20),
            () => "no lookup after the warning\n" + node.Tail(30));
        Assert.False(node.HasExited);
    }

    private static Dictionary<string, string> NodeEnvironment(string address, string service, string dataDir) => new(StringComparer.Ordinal)
    {
        ["MailCluster__DataDir"] = dataDir,
        ["MailCluster__Cluster__Host"] = address,
        ["MailCluster__Cluster__Port"] = "4053",
        ["MailCluster__Cluster__DiscoveryService"] = service,
        ["MailCluster__Cluster__StableAfterSeconds"] = "3",
        ["MailCluster__Smtp__BindAddress"] = address,
        ["MailCluster__Ops__BindAddress"] = address,
        ["MailCluster__Ops__Port"] = "8080",
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__MailCluster.Host"] = "Information",
    };

    private static System.Diagnostics.Process StartDnsmasq(NetworkNamespace ns, ConcurrentQueue<string> log, IEnumerable<string> records) =>
        ns.Start(
            [
                DnsmasqServer.ExecutablePath, "--keep-in-foreground", "--port=53", "--listen-address=127.0.0.1", "--bind-interfaces",
                "--no-resolv", "--no-hosts", "--local=/cluster.local/", "--local-ttl=5", "--pid-file=", "--user=root",
                "--log-queries", "--log-facility=-", .. records,
            ],
            log);

    private static async Task<string> MetricsAsync(NetworkNamespace ns, string address)
    {
        var (exit, body) = await ns.RunInsideAsync(["curl", "-s", "--max-time", "5", $"http://{address}:8080/metrics"]);
        return exit == 0 ? body : "";
    }

    private static int UpMembers(string metrics) =>
        UpLine().Match(metrics) is { Success: true } m ? (int)double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;

    private static Task WaitForAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe) =>
        WaitForAsync(() => Task.FromResult(condition()), timeout, describe);

    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(describe());
            }

            await Task.Delay(500);
        }
    }

    [GeneratedRegex("""^mailcluster_cluster_members\{status="up"\} (\S+)$""", RegexOptions.Multiline)]
    private static partial Regex UpLine();

    private sealed class TempDirectory : IDisposable
    {
        private readonly string _path = Directory.CreateTempSubdirectory("mc-t55-").FullName;

        public string Sub(string name) => Directory.CreateDirectory(Path.Combine(_path, name)).FullName;

        public void Dispose() => Directory.Delete(_path, recursive: true);
    }
}
