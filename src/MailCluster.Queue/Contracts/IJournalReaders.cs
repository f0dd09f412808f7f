namespace MailCluster.Queue.Contracts;

/// <summary>
/// What, besides each domain queue's own recovery, still reads the journal: the journal compaction
/// (MailCluster.Storage) deletes no event at or above <see cref="PassedAsync"/>'s answer. The delivery-events
/// projection implements it with its stored offset; with no implementation registered, nothing else reads the journal.
/// </summary>
public interface IJournalReaders
{
    /// <summary>The journal ordering every other reader has read up to (inclusive): 0 when one has read nothing yet,
    /// <see cref="long.MaxValue"/> when none reads it.</summary>
    Task<long> PassedAsync(CancellationToken ct);
}
