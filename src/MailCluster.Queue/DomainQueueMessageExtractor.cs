using Akka.Cluster.Sharding;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue;

/// <summary>
/// Routes every <see cref="IDomainQueueCommand"/> to the entity its sender named (<see cref="QueueKey.EntityId"/>:
/// <c>domain</c>, or <c>domain#k</c> for a bucket of a split domain, chosen by the acceptor); the message reaches the
/// entity unchanged. The shard is the Murmur hash of the entity id modulo <paramref name="shards"/> (stable across
/// processes; the shard count is fixed for a cluster's data).
/// </summary>
public sealed class DomainQueueMessageExtractor(int shards) : HashCodeMessageExtractor(shards)
{
    public override string? EntityId(object message) => message is IDomainQueueCommand command ? command.Queue.EntityId : null;
}
