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
/// </summary>
public sealed partial class SeedDiscovery(ClusterNodeOptions cluster, DnsOptions dns, ILogger<SeedDiscovery> logger)
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>Resolves the seeds (retrying) and hands them to the cluster; returns when joining has started.</summary>
    public async Task JoinAsync(ActorSystem system, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(system);
        var self = Cluster.Get(system).SelfAddress;
        var selfSeed = $"{cluster.Host}:{cluster.Port}";
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var seeds = await ResolveAsync(cancellationToken).ConfigureAwait(false);
                if (seeds.Contains(selfSeed))
                {
                    LogSeeds(logger, cluster.DiscoveryService!, seeds);
                    Cluster.Get(system).JoinSeedNodes(seeds.Select(s => Address.Parse($"akka.tcp://{self.System}@{s}")));
                    return;
                }

                LogWaiting(logger, cluster.DiscoveryService!, seeds, selfSeed);
            }
            catch (DnsResponseException ex)
            {
                LogLookupFailed(logger, ex, cluster.DiscoveryService!);
            }

            await Task.Delay(RetryDelay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The seeds as sorted <c>host:port</c> strings (IPv6 in brackets).</summary>
    public async Task<List<string>> ResolveAsync(CancellationToken cancellationToken)
    {
        var client = CreateClient();
        var name = cluster.DiscoveryService!;
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

    private LookupClient CreateClient()
    {
        var servers = dns.Servers.Select(ToEndPoint).ToArray();
        var options = servers.Length == 0 ? new LookupClientOptions() : new LookupClientOptions(servers);
        options.UseCache = false; // membership changes; a cached answer would hide new pods
        options.Timeout = TimeSpan.FromSeconds(dns.TimeoutSeconds);
        options.Retries = dns.Retries;
        options.ThrowDnsErrors = false;
        return new LookupClient(options);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Discovered seed nodes from {Service}: {Seeds}; joining")]
    private static partial void LogSeeds(ILogger logger, string service, IEnumerable<string> seeds);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Service} lists {Seeds}, not yet this node {Self}; looking again")]
    private static partial void LogWaiting(ILogger logger, string service, IEnumerable<string> seeds, string self);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Seed discovery lookup of {Service} failed; retrying")]
    private static partial void LogLookupFailed(ILogger logger, Exception ex, string service);
}
