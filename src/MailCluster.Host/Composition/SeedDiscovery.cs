using System.Net;
using Akka.Actor;
using Akka.Cluster;
using DnsClient;
using DnsClient.Protocol;
using MailCluster.Host.Configuration;
using MailCluster.Outbound;

namespace MailCluster.Host.Composition;

/// <summary>
/// Cluster bootstrap from DNS (Akka.Management cannot run here: PACKAGES.md): the pods of a Kubernetes
/// headless Service are the seed nodes. SRV records of the name give host and port; without them the A/AAAA
/// records give the addresses, each with this node's own cluster port (all nodes use the same one).
/// The addresses are sorted so that every node computes the same list, hence the same first seed: only the
/// first seed may form a new cluster (after <c>seed-node-timeout</c> without an answer from the others), every
/// other node joins. Lookups are retried until the name resolves to at least one address including this node
/// (a pod is listed once its Service endpoint exists; <c>publishNotReadyAddresses</c> must be on).
/// <para>The name is resolved the way every other program in the pod resolves it: without
/// <c>MailCluster:Dns:Servers</c>, the name servers, search list and <c>ndots</c> of <c>/etc/resolv.conf</c> apply
/// (<see cref="ResolvConf"/>; DnsClient applies no search list); with servers configured, the name is asked as is.
/// Every failure (no answer, a timeout, an exception) is logged and retried: discovery never gives up silently.</para>
/// </summary>
public sealed partial class SeedDiscovery(ClusterNodeOptions cluster, DnsOptions dns, ILogger<SeedDiscovery> logger, string resolvConfPath = ResolvConf.DefaultPath)
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>Repeated warnings (name does not resolve, lookup fails) are logged on the first attempt and then once
    /// per this many attempts (about a minute), so a stuck pod says why without flooding its log.</summary>
    private const int WarnEvery = 30;

    /// <summary>Resolves the seeds (retrying) and hands them to the cluster; returns when joining has started, or
    /// when <paramref name="cancellationToken"/> is cancelled (the node is stopping).</summary>
    public async Task JoinAsync(ActorSystem system, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(system);
        var self = Cluster.Get(system).SelfAddress;
        var selfSeed = $"{cluster.Host}:{cluster.Port}";
        var service = cluster.DiscoveryService!;
        for (var attempt = 0; !cancellationToken.IsCancellationRequested; attempt++)
        {
            var warn = attempt % WarnEvery == 0;
            try
            {
                var (name, seeds, tried) = await ResolveAsync(cancellationToken).ConfigureAwait(false);
                if (seeds.Contains(selfSeed))
                {
                    LogSeeds(logger, service, name!, seeds);
                    Cluster.Get(system).JoinSeedNodes(seeds.Select(s => Address.Parse($"akka.tcp://{self.System}@{s}")));
                    return;
                }

                if (seeds.Count > 0)
                {
                    LogWaiting(logger, name!, seeds, selfSeed);
                }
                else if (warn && !service.Contains('.', StringComparison.Ordinal))
                {
                    LogShortNameUnresolved(logger, service, tried);
                }
                else if (warn)
                {
                    LogUnresolved(logger, service, tried);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Any failure of a lookup is logged and retried: discovery must never stop silently.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (warn)
                {
                    LogLookupFailed(logger, ex, service);
                }
            }

            try
            {
                await Task.Delay(RetryDelay, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The seeds as sorted <c>host:port</c> strings (IPv6 in brackets), from the first candidate name that has
    /// records (<see cref="ResolvConf.Candidates"/>), with that name and every name tried.
    /// </summary>
    public async Task<(string? Name, List<string> Seeds, IReadOnlyList<string> Tried)> ResolveAsync(CancellationToken cancellationToken)
    {
        var (client, candidates) = Resolution();
        var tried = new List<string>();
        foreach (var candidate in candidates)
        {
            tried.Add(candidate);
            var seeds = await ResolveNameAsync(client, candidate, cancellationToken).ConfigureAwait(false);
            if (seeds.Count > 0)
            {
                return (candidate, seeds, tried);
            }
        }

        return (null, [], tried);
    }

    private async Task<List<string>> ResolveNameAsync(LookupClient client, string name, CancellationToken cancellationToken)
    {
        var seeds = new List<string>();
        var srv = await client.QueryAsync(name, QueryType.SRV, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        foreach (var record in srv.Answers.SrvRecords())
        {
            var addresses = srv.Additionals.AddressRecords().Where(a => a.DomainName == record.Target).Select(a => a.Address).ToList();
            if (addresses.Count == 0)
            {
                var lookup = await client.GetHostEntryAsync(record.Target.Value.TrimEnd('.')).ConfigureAwait(false);
                addresses.AddRange(lookup.AddressList);
            }

            seeds.AddRange(addresses.Select(a => Format(a, record.Port)));
        }

        if (seeds.Count == 0)
        {
            foreach (var type in new[] { QueryType.A, QueryType.AAAA })
            {
                var answer = await client.QueryAsync(name, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
                seeds.AddRange(answer.Answers.AddressRecords().Select(a => Format(a.Address, cluster.Port)));
            }
        }

        return [.. seeds.Distinct(StringComparer.Ordinal).OrderBy(s => s, StringComparer.Ordinal)];
    }

    /// <summary>The client and the names to ask: configured servers and the name as is, or resolv.conf's servers and
    /// search expansion (DnsClient's own defaults and the name as is when resolv.conf cannot be read).</summary>
    private (LookupClient Client, IReadOnlyList<string> Names) Resolution()
    {
        var name = cluster.DiscoveryService!;
        var servers = dns.Servers.Select(ToEndPoint).ToArray();
        IReadOnlyList<string> names = [name.TrimEnd('.')];
        if (servers.Length == 0 && ResolvConf.Load(resolvConfPath) is { } conf)
        {
            servers = [.. conf.Nameservers.Select(a => new IPEndPoint(a, 53))];
            names = conf.Candidates(name);
        }

        var options = servers.Length == 0 ? new LookupClientOptions() : new LookupClientOptions(servers);
        options.UseCache = false; // membership changes; a cached answer would hide new pods
        options.Timeout = TimeSpan.FromSeconds(dns.TimeoutSeconds);
        options.Retries = dns.Retries;
        options.ThrowDnsErrors = false;
        return (new LookupClient(options), names);
    }

    private static IPEndPoint ToEndPoint(string server)
    {
        var colon = server.LastIndexOf(':');
        return colon > 0 && IPAddress.TryParse(server[..colon], out var address)
            ? new IPEndPoint(address, int.Parse(server[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            : new IPEndPoint(IPAddress.Parse(server), 53);
    }

    private static string Format(IPAddress address, int port) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";

    [LoggerMessage(Level = LogLevel.Information, Message = "Discovered seed nodes from {Service} (as {Name}): {Seeds}; joining")]
    private static partial void LogSeeds(ILogger logger, string service, string name, IEnumerable<string> seeds);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Name} lists {Seeds}, not yet this node {Self}; looking again")]
    private static partial void LogWaiting(ILogger logger, string name, IEnumerable<string> seeds, string self);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Seed discovery: the short name {Service} does not resolve (tried {Tried}); " +
        "set MailCluster__Cluster__DiscoveryService to the Service's fully qualified name (<service>.<namespace>.svc.cluster.local); retrying")]
    private static partial void LogShortNameUnresolved(ILogger logger, string service, IEnumerable<string> tried);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Seed discovery: {Service} has no SRV, A or AAAA records (tried {Tried}); retrying")]
    private static partial void LogUnresolved(ILogger logger, string service, IEnumerable<string> tried);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Seed discovery stopped; this node will not join a cluster")]
    public static partial void LogStopped(ILogger logger, Exception? ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Seed discovery lookup of {Service} failed; retrying")]
    private static partial void LogLookupFailed(ILogger logger, Exception ex, string service);
}
