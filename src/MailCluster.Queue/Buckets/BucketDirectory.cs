using Akka.Actor;
using Akka.Cluster.Sharding;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Buckets;

/// <summary>
/// One per delivery node (at <c>/user/<see cref="Name"/></c>): answers <see cref="FindBuckets"/> with the bucket
/// entities of a domain that run on this node, from the local shard region's own state (GetShardRegionState), whatever
/// the bucket count is configured to now. Bucket entities are remembered, so one that still holds mail runs wherever
/// its shard is allocated (and passivates once empty): the running buckets are the ones that can hold mail.
/// <para>Filtered here, next to the region: the region's state lists every entity of every domain on the node, which
/// grows with the number of destination domains and, sent to another node, would pass the remoting frame size. The
/// answer is a list of small numbers.</para>
/// </summary>
public sealed class BucketDirectory : ReceiveActor
{
    public const string Name = "domain-queue-buckets";

    /// <summary>Bucket numbers in one answer: the configured count is at most 1024.</summary>
    public const int MaxBuckets = 1024;

    /// <summary>Above the region's own per-shard query timeout (akka.cluster.sharding.shard-region-query-timeout, 3 s).</summary>
    public static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(5);

    /// <param name="region">This node's domain-queue shard region, resolved when first asked (it may start after this actor).</param>
    public BucketDirectory(Func<IActorRef> region)
    {
        ArgumentNullException.ThrowIfNull(region);
        Receive<FindBuckets>(find => region().Ask<CurrentShardRegionState>(GetShardRegionState.Instance, QueryTimeout).PipeTo(
            Sender,
            success: state => Found(find.Domain, state),
            failure: _ => new BucketsFound(find.Domain, [], Complete: false)));
    }

    public static Props Props(Func<IActorRef> region) => Akka.Actor.Props.Create(() => new BucketDirectory(region));

    /// <summary>The bucket numbers of <paramref name="domain"/> among the region's entities, ascending and bounded.</summary>
    public static BucketsFound Found(string domain, CurrentShardRegionState state)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(state);
        var buckets = state.Shards
            .SelectMany(shard => shard.EntityIds)
            .Select(QueueKey.Parse)
            .Where(key => key.Domain == domain && key.Bucket is not null)
            .Select(key => key.Bucket!.Value)
            .Distinct()
            .Order()
            .ToList();
        return new BucketsFound(domain, [.. buckets.Take(MaxBuckets)], state.Failed.Count == 0 && buckets.Count <= MaxBuckets);
    }
}
