using Akka.Actor;
using Akka.Cluster.Sharding;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Buckets;

/// <summary>
/// The domain-queue entities that may hold a domain's mail, cluster-wide: the domain itself, the buckets configured
/// now (<c>domain#0..N-1</c>), and every bucket entity of the domain running on any node. The last matter when an
/// operator lowers N: the buckets above the new count keep their queued mail (they are remembered entities and keep
/// delivering), and only sharding knows they exist. The nodes hosting the domain-queue regions come from the shard
/// coordinator (GetCurrentRegions, through the local region or proxy); each is asked for its buckets of the domain by
/// its <see cref="BucketDirectory"/>, so a bucket living on another node is found as well as a local one.
/// <para>Used by the queue admin API and by the orphan spool sweep (<see cref="Sweep.OrphanSweep"/>), which must not
/// decide about a domain whose discovery is incomplete (<see cref="QueueEntitySet.Complete"/>).</para>
/// </summary>
/// <param name="system">This node's actor system (the directories are reached by actor selection).</param>
/// <param name="region">The domain-queue shard region, or its proxy on edge-only nodes.</param>
/// <param name="buckets">The configured hot-domain buckets.</param>
public sealed class QueueEntities(ActorSystem system, IActorRef region, DomainBuckets buckets)
{
    /// <summary>Named in <see cref="QueueEntitySet.Unanswered"/> when the hosting nodes are not known.</summary>
    public const string Coordinator = "shard coordinator";

    private static readonly TimeSpan RegionsTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan DirectoryTimeout = BucketDirectory.QueryTimeout + TimeSpan.FromSeconds(1);

    /// <summary>The entities of <paramref name="domain"/> (<see cref="Merge"/>), and the nodes that did not say which
    /// buckets they run: their leftover buckets, if any, are missing from the list.</summary>
    public async Task<QueueEntitySet> OfAsync(string domain, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(domain);
        IReadOnlyCollection<Address> hosts;
        try
        {
            hosts = (await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, RegionsTimeout, cancellationToken).ConfigureAwait(false)).Regions;
        }
        catch (AskTimeoutException)
        {
            return new QueueEntitySet(Merge(buckets, domain, []), [Coordinator]);
        }

        // A region that does not know its coordinator yet (right after start) answers with no regions at all; the
        // delivery role is never really empty while a domain queue is asked about, so that answer says nothing.
        if (hosts.Count == 0)
        {
            return new QueueEntitySet(Merge(buckets, domain, []), [Coordinator]);
        }

        var answers = await Task.WhenAll(hosts.Select(host => FindAsync(host, domain, cancellationToken))).ConfigureAwait(false);
        return new QueueEntitySet(
            Merge(buckets, domain, answers.SelectMany(a => a.Found?.Buckets ?? [])),
            [.. answers.Where(a => a.Found is not { Complete: true }).Select(a => a.Host.ToString()).Order(StringComparer.Ordinal)]);
    }

    /// <summary>In a fixed order, so that listing offsets run over the same concatenation page after page: the domain,
    /// then its buckets by number, configured ones and found ones alike. (A leftover bucket disappears only once it is
    /// empty, when it adds nothing to the offsets.)</summary>
    public static IReadOnlyList<string> Merge(DomainBuckets buckets, string domain, IEnumerable<int> found)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        ArgumentNullException.ThrowIfNull(found);
        int n = buckets.CountOf(domain);
        var numbers = found.Where(k => k >= 0).Concat(n > 1 ? Enumerable.Range(0, n) : []).Distinct().Order();
        return [domain, .. numbers.Select(k => new QueueKey(domain, k).EntityId)];
    }

    private async Task<(Address Host, BucketsFound? Found)> FindAsync(Address host, string domain, CancellationToken cancellationToken)
    {
        var directory = system.ActorSelection(new RootActorPath(host) / "user" / BucketDirectory.Name);
        try
        {
            return (host, await directory.Ask<BucketsFound>(new FindBuckets(domain), DirectoryTimeout, cancellationToken).ConfigureAwait(false));
        }
        catch (AskTimeoutException)
        {
            return (host, null);
        }
    }
}

/// <param name="Entities">Entity ids, in the order of <see cref="QueueEntities.Merge"/>.</param>
/// <param name="Unanswered">Nodes (or the shard coordinator) whose buckets of the domain are not known.</param>
public sealed record QueueEntitySet(IReadOnlyList<string> Entities, IReadOnlyList<string> Unanswered)
{
    /// <summary>Every node hosting domain queues said which buckets of the domain it runs: no running entity of the
    /// domain is missing from <see cref="Entities"/>.</summary>
    public bool Complete => Unanswered.Count == 0;
}
