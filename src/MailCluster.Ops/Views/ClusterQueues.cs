using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using MailCluster.Queue;
using MailCluster.Queue.Views;

namespace MailCluster.Ops.Views;

/// <summary>
/// The cluster-wide view of the domain queues, gathered on whichever node is asked: every node hosting domain queues
/// answers for its own entities (<see cref="QueueViewDirectory"/>), asked side by side; a node that has not answered
/// within <see cref="NodeTimeout"/> (or answered without some of its entities) is named in <c>Unanswered</c>, never
/// waited for longer. The hosts are the regions the shard coordinator knows plus the members of the delivery role
/// (so an unreachable node that the coordinator no longer lists is still named).
/// </summary>
/// <param name="system">This node's actor system (the directories are reached by actor selection).</param>
/// <param name="region">The domain-queue shard region, or its proxy on edge-only nodes.</param>
public sealed class ClusterQueues(ActorSystem system, IActorRef region)
{
    /// <summary>Above a directory's own bound (region state, then entities): a node answers within it or is named.</summary>
    public static readonly TimeSpan NodeTimeout = QueueViewDirectory.EntityTimeout + TimeSpan.FromSeconds(4);

    private static readonly TimeSpan RegionsTimeout = TimeSpan.FromSeconds(3);

    /// <summary>One page of the summary: the first <paramref name="limit"/> entities after <paramref name="after"/>.</summary>
    public async Task<QueuePage> SummarizeAsync(string? domain, QueueSummaryOrder order, QueueSummaryCursor? after, int limit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(order);
        var question = new SummarizeQueues(domain, order.Sort, order.Descending, after, limit);
        var (answers, unanswered) = await AskEveryNodeAsync<QueueSummaries>(question, ct).ConfigureAwait(false);
        var rows = order.Page(answers.SelectMany(a => a.Rows), null, limit);

        // More may follow when the nodes together offered more than a page, or one of them cut its own share.
        bool more = answers.Sum(a => a.Rows.Count) > rows.Count || answers.Any(a => a.Rows.Count >= limit);
        return new QueuePage(
            rows,
            more && rows.Count > 0 ? order.CursorOf(rows[^1]) : null,
            answers.Sum(a => a.Total),
            answers.Sum(a => a.Pending),
            answers.Sum(a => a.Deferred),
            answers.Sum(a => a.Held),
            [.. unanswered.Concat(answers.Where(a => !a.Complete).Select(a => a.Node)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]);
    }

    /// <summary>Every entity of the cluster (or of <paramref name="domain"/>), page by page in domain order.</summary>
    public async IAsyncEnumerable<QueuePage> AllAsync(string? domain, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var order = new QueueSummaryOrder(QueueSort.Domain, descending: false);
        QueueSummaryCursor? after = null;
        do
        {
            var page = await SummarizeAsync(domain, order, after, QueueViewDirectory.MaxRows, ct).ConfigureAwait(false);
            yield return page;
            after = page.Next;
        }
        while (after is not null);
    }

    /// <summary>The queues holding <paramref name="messageId"/>, whichever node hosts them.</summary>
    public async Task<(IReadOnlyList<QueuedMessageDetail> Queues, IReadOnlyList<string> Unanswered)> FindAsync(string messageId, CancellationToken ct)
    {
        var (answers, unanswered) = await AskEveryNodeAsync<MessageFound>(new FindMessage(messageId), ct).ConfigureAwait(false);
        return (
            [.. answers.SelectMany(a => a.Queues).OrderBy(q => q.Queue, StringComparer.Ordinal)],
            [.. unanswered.Concat(answers.Where(a => !a.Complete).Select(a => a.Node)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]);
    }

    private async Task<(IReadOnlyList<T> Answers, IReadOnlyList<string> Unanswered)> AskEveryNodeAsync<T>(object question, CancellationToken ct)
        where T : class
    {
        var hosts = await HostsAsync(ct).ConfigureAwait(false);
        var asked = await Task.WhenAll(hosts.Select(async host =>
        {
            var directory = system.ActorSelection(new RootActorPath(host) / "user" / QueueViewDirectory.Name);
            try
            {
                return (Host: host, Answer: await directory.Ask<T>(question, NodeTimeout, ct).ConfigureAwait(false));
            }
            catch (AskTimeoutException)
            {
                return (Host: host, Answer: (T?)null);
            }
        })).ConfigureAwait(false);
        return (
            [.. asked.Where(a => a.Answer is not null).Select(a => a.Answer!)],
            [.. asked.Where(a => a.Answer is null).Select(a => a.Host.ToString()).Order(StringComparer.Ordinal)]);
    }

    private async Task<IReadOnlyCollection<Address>> HostsAsync(CancellationToken ct)
    {
        var hosts = Cluster.Get(system).State.Members
            .Where(m => m.HasRole(DeliveryQueueSettings.Role) && m.Status is MemberStatus.Up or MemberStatus.Leaving or MemberStatus.WeaklyUp)
            .Select(m => m.Address)
            .ToHashSet();
        try
        {
            var regions = await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, RegionsTimeout, ct).ConfigureAwait(false);
            hosts.UnionWith(regions.Regions);
        }
        catch (AskTimeoutException)
        {
            // The members alone: every delivery node is a member.
        }

        return hosts;
    }
}

/// <param name="Next">The cursor of the next page; null on the last.</param>
/// <param name="Total">Entities in the cluster (matching the domain filter), over every page.</param>
/// <param name="Unanswered">Nodes that did not answer (fully) in time: their queues may be missing.</param>
public sealed record QueuePage(
    IReadOnlyList<QueueSummaryRow> Rows,
    QueueSummaryCursor? Next,
    int Total,
    int Pending,
    int Deferred,
    int Held,
    IReadOnlyList<string> Unanswered);
