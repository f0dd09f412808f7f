using Akka.Cluster.Sharding;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue;

/// <summary>Routes <see cref="IDomainQueueCommand"/>s by their normalised domain.</summary>
public sealed class DomainQueueMessageExtractor(int shards) : HashCodeMessageExtractor(shards)
{
    public override string? EntityId(object message) => message switch
    {
        IDomainQueueCommand c => c.Domain,
        _ => null,
    };
}
