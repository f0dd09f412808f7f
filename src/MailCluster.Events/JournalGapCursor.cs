namespace MailCluster.Events;

/// <summary>
/// Which rows of a PostgreSQL journal read may be handed to the projections, in ordering order, without skipping a
/// committed event (pure; <see cref="PostgresJournalTail"/> does the reading). Concurrent transactions take orderings
/// from one sequence and commit in any order, so a read can show ordering 12 while 11 is still to be committed: a gap.
/// The cursor hands on the rows before the first gap and waits there. A gap is passed over, as never to be filled
/// (its transaction rolled back, or its row was deleted), only when both hold:
/// <list type="bullet">
/// <item>every transaction that was in progress when the gap was first seen has ended: a later read's snapshot xmin
/// (the oldest transaction still running) is at least the xmax of the snapshot that first saw it; and</item>
/// <item>the gap has been seen for at least <see cref="MinGapAge"/>: a transaction takes its ordering a moment before it
/// gets a transaction id (PostgreSQL assigns one at the row's insertion), so the first snapshot may not list it.</item>
/// </list>
/// A gap older than <see cref="MaxGapAge"/> is passed over in any case (an unrelated transaction left open for
/// minutes holds xmin back), like Akka.Persistence.Query's journal sequence (10 tries, 1 s apart).
/// </summary>
public sealed class JournalGapCursor(long after)
{
    public static readonly TimeSpan MinGapAge = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan MaxGapAge = TimeSpan.FromSeconds(10);

    private Gap? _gap;

    /// <summary>Every ordering up to this one was handed on, or is known never to come.</summary>
    public long After { get; private set; } = after;

    /// <summary>True while the cursor waits at a gap (the next read should come after a short pause).</summary>
    public bool Waiting => _gap is not null;

    /// <summary>Takes one read: <paramref name="orderings"/> ascending, all above <see cref="After"/>, read in one
    /// statement with that statement's snapshot (<paramref name="snapshotXmin"/>, <paramref name="snapshotXmax"/>).
    /// Returns how many of them, from the first, may be handed on; <see cref="After"/> then covers them.</summary>
    public int Accept(IReadOnlyList<long> orderings, ulong snapshotXmin, ulong snapshotXmax, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(orderings);
        var accepted = 0;
        var expected = After + 1;
        foreach (var ordering in orderings)
        {
            if (ordering < expected)
            {
                throw new ArgumentException($"ordering {ordering} is not above {expected - 1}", nameof(orderings));
            }

            if (ordering > expected)
            {
                if (_gap is { } gap && gap.First == expected && gap.Passable(snapshotXmin, now))
                {
                    _gap = null;
                }
                else
                {
                    if (_gap is not { } seen || seen.First != expected)
                    {
                        _gap = new Gap(expected, snapshotXmax, now);
                    }

                    break;
                }
            }

            accepted++;
            expected = ordering + 1;
        }

        if (accepted == orderings.Count)
        {
            _gap = null; // nothing seen above the last row: no gap (a gap is only known below a visible row)
        }

        After = expected - 1;
        return accepted;
    }

    private sealed record Gap(long First, ulong Watermark, DateTimeOffset Since)
    {
        public bool Passable(ulong snapshotXmin, DateTimeOffset now) =>
            now - Since >= MaxGapAge || (now - Since >= MinGapAge && snapshotXmin >= Watermark);
    }
}
