using MailCluster.Queue.Contracts;

namespace MailCluster.Events;

/// <summary>
/// The delivery-events projection as a reader of the journal: the journal compaction keeps every event above the
/// projection's stored offset (0 until it has projected anything). With events turned off on this node
/// (<c>MailCluster__Events__Enabled=false</c>) it does not hold the compaction back: what is compacted meanwhile is
/// not projected when events are turned on again. Configure the setting alike on every node of a cluster.
/// </summary>
public sealed class ProjectionJournalReader(EventStore store, EventsOptions options) : IJournalReaders
{
    public Task<long> PassedAsync(CancellationToken ct) =>
        options.Enabled ? store.ProjectionOffsetAsync(EventProjection.Name, ct) : Task.FromResult(long.MaxValue);
}
