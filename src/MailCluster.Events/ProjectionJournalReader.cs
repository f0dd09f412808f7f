using MailCluster.Queue.Contracts;

namespace MailCluster.Events;

/// <summary>
/// A projection of the journal (delivery events, automatic suppressions) as a reader the journal compaction must wait
/// for: it keeps every event above the projection's stored offset (0 until it has projected anything). A projection
/// not running on this node (delivery events with <c>MailCluster__Events__Enabled=false</c>, suppressions without the
/// suppression feature) does not hold the compaction back: what is compacted meanwhile is not projected when it is
/// turned on again. Configure these alike on every node of a cluster.
/// </summary>
public sealed class ProjectionJournalReader(EventStore store, string projection, bool running) : IJournalReaders
{
    public Task<long> PassedAsync(CancellationToken ct) =>
        running ? store.ProjectionOffsetAsync(projection, ct) : Task.FromResult(long.MaxValue);
}
