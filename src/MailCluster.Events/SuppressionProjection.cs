using MailCluster.Queue.Contracts;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Suppression;

namespace MailCluster.Events;

/// <summary>
/// The suppression list's automatic entries, projected from the domain queues' journal: every persisted
/// <see cref="AttemptCompleted"/> whose hard bounces add an entry (<see cref="AutoSuppression.BouncesOf"/>) is written to
/// the suppression table, then the journal offset is stored (in the events store, under <see cref="Name"/>). A node
/// that dies after the bounce is persisted therefore loses no entry: whichever node runs the projection next resumes
/// from the stored offset. At least once: a batch whose offset was not stored is written again, which writes the same
/// entries (each is dated by its attempt), so the table ends the same.
/// </summary>
public sealed class SuppressionProjection(
    ISuppressionStore suppressions, SuppressionRefresher refresher, EventStore offsets, IBounceClassifier classifier, SuppressionOptions options, TimeProvider clock)
    : IJournalProjection
{
    public const string Name = "suppression";

    string IJournalProjection.Name => Name;

    public async Task<long> StartOffsetAsync(CancellationToken ct)
    {
        await offsets.Initialized.WaitAsync(ct).ConfigureAwait(false);
        return await offsets.ProjectionOffsetAsync(Name, ct).ConfigureAwait(false);
    }

    public Task AdvanceAsync(long ordering, CancellationToken ct) =>
        offsets.CommitProjectionAsync(Name, [], [], ordering, clock.GetUtcNow(), ct);

    public bool Relevant(object journalEvent) => journalEvent is AttemptCompleted a && a.Results.Any(r => r.Kind == RecipientResultKind.Failed);

    /// <summary>Only attempts can add entries: the other rows (every Enqueued, the largest) are passed by unread.</summary>
    public bool Reads(Type eventType) => eventType == typeof(AttemptCompleted);

    public async Task ApplyAsync(IReadOnlyList<(long Ordering, object Event)> batch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return;
        }

        // The schema is created by the refresher; writing before it exists would fail and restart the stream.
        await refresher.Initialized.WaitAsync(ct).ConfigureAwait(false);
        var added = 0;
        foreach (var attempt in batch.Select(b => b.Event).OfType<AttemptCompleted>())
        {
            foreach (var bounce in AutoSuppression.BouncesOf(attempt, classifier, options))
            {
                await suppressions.UpsertAsync(AutoSuppression.EntryFor(bounce, options.Expiry, bounce.At), ct).ConfigureAwait(false);
                added++;
            }
        }

        await offsets.CommitProjectionAsync(Name, [], [], batch[^1].Ordering, clock.GetUtcNow(), ct).ConfigureAwait(false);
        if (added > 0)
        {
            // In force on this node at once; the other nodes read the moved counter within their interval.
            await refresher.RefreshAsync(ct).ConfigureAwait(false);
        }
    }
}
