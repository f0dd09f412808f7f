using Akka.Cluster.Sharding;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue;

/// <summary>
/// Routes <see cref="IDomainQueueCommand"/>s by their normalised domain, or by the domain's bucket
/// (<c>gmail.com#k</c>, chosen from the message id) for domains split by <see cref="DomainBuckets"/>; the entity
/// receives the command with its own id as the domain. The shard is the Murmur hash of the entity id modulo
/// <paramref name="shards"/> (stable across processes; the shard count is fixed for a cluster's data).
/// </summary>
public sealed class DomainQueueMessageExtractor(int shards, DomainBuckets buckets) : HashCodeMessageExtractor(shards)
{
    public DomainQueueMessageExtractor(int shards)
        : this(shards, DomainBuckets.None)
    {
    }

    public override string? EntityId(object message) => message switch
    {
        Enqueue e => buckets.EntityFor(e.Domain, e.MessageId),
        MessageCommitted c => buckets.EntityFor(c.Domain, c.MessageId),
        IDomainQueueCommand c => c.Domain,
        _ => null,
    };

    public override object EntityMessage(object message) => message switch
    {
        Enqueue e when EntityId(e) is { } id && id != e.Domain => e with { Domain = id },
        MessageCommitted c when EntityId(c) is { } id && id != c.Domain => c with { Domain = id },
        _ => base.EntityMessage(message) ?? message,
    };
}
