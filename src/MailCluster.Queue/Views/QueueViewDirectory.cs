using Akka.Actor;
using Akka.Cluster.Sharding;

namespace MailCluster.Queue.Views;

/// <summary>
/// One per delivery node (at <c>/user/<see cref="Name"/></c>), beside the <see cref="Buckets.BucketDirectory"/>:
/// answers the cluster-wide view's questions about the entities this node hosts. It reads the running entities from
/// the local shard region's own state (GetShardRegionState), asks each of them (<see cref="GetQueueSummary"/>,
/// <see cref="InspectMessage"/>) through the region, which delivers locally, and answers with the node's share,
/// filtered, sorted and cut here so that what crosses the network is one bounded page
/// (<see cref="QueueSummaryOrder"/>). Passivated queues are empty (a queue with mail stays running), so the running
/// entities are the ones that hold mail, and the ones that ran empty within the destination's idle timeout (they wait
/// for their idle connections before they passivate) with counts of zero.
/// </summary>
public sealed class QueueViewDirectory : ReceiveActor
{
    public const string Name = "domain-queue-view";

    /// <summary>Rows in one answer: ~300 bytes each, far under the remoting frame.</summary>
    public const int MaxRows = 200;

    /// <summary>The gathering node waits this long plus a margin: an entity that has not answered by then is left out
    /// and the answer says it is incomplete.</summary>
    public static readonly TimeSpan EntityTimeout = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan RegionTimeout = TimeSpan.FromSeconds(3);

    /// <param name="region">This node's domain-queue shard region, resolved when first asked.</param>
    /// <param name="node">This node's name in the answers (its cluster address).</param>
    public QueueViewDirectory(Func<IActorRef> region, string node)
    {
        ArgumentNullException.ThrowIfNull(region);
        // Piped, not awaited in the handler: questions run side by side, and one waiting for a slow entity does not
        // hold up the next.
        Receive<SummarizeQueues>(ask => SummarizeAsync(region(), node, ask).PipeTo(Sender));
        Receive<FindMessage>(find => FindAsync(region(), node, find).PipeTo(Sender));
    }

    public static Props Props(Func<IActorRef> region, string node) => Akka.Actor.Props.Create(() => new QueueViewDirectory(region, node));

    private static async Task<QueueSummaries> SummarizeAsync(IActorRef region, string node, SummarizeQueues ask)
    {
        var (entities, complete) = await EntitiesAsync(region).ConfigureAwait(false);
        var wanted = entities.Where(e => ask.Domain is null || e.Domain == ask.Domain).ToList();
        var answers = await Task.WhenAll(wanted.Select(e => AskAsync<QueueSummaryRow>(region, new GetQueueSummary(e)))).ConfigureAwait(false);
        var rows = answers.OfType<QueueSummaryRow>().Select(r => r with { Node = node }).ToList();
        var order = new QueueSummaryOrder(ask.Sort, ask.Descending);
        return new QueueSummaries(
            node,
            order.Page(rows, ask.After, Math.Clamp(ask.Limit, 1, MaxRows)),
            rows.Count,
            rows.Sum(r => r.Pending),
            rows.Sum(r => r.Deferred),
            rows.Sum(r => r.Held),
            complete && rows.Count == wanted.Count);
    }

    private static async Task<MessageFound> FindAsync(IActorRef region, string node, FindMessage find)
    {
        var (entities, complete) = await EntitiesAsync(region).ConfigureAwait(false);
        var answers = await Task.WhenAll(entities.Select(e => AskAsync<QueuedMessageDetail>(region, new InspectMessage(e, find.MessageId)))).ConfigureAwait(false);
        var found = answers.OfType<QueuedMessageDetail>().Where(m => m.Found).Select(m => m with { Node = node }).OrderBy(m => m.Queue, StringComparer.Ordinal).ToList();
        return new MessageFound(node, found, complete && answers.All(a => a is not null));
    }

    /// <summary>The entities running in the local region, and whether every shard answered.</summary>
    private static async Task<(IReadOnlyList<QueueKey> Entities, bool Complete)> EntitiesAsync(IActorRef region)
    {
        try
        {
            var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, RegionTimeout).ConfigureAwait(false);
            return ([.. state.Shards.SelectMany(s => s.EntityIds).Distinct(StringComparer.Ordinal).Select(QueueKey.Parse)], state.Failed.Count == 0);
        }
        catch (AskTimeoutException)
        {
            return ([], false);
        }
    }

    private static async Task<T?> AskAsync<T>(IActorRef region, object question)
        where T : class
    {
        try
        {
            return await region.Ask<T>(question, EntityTimeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }
}
