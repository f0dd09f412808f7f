using Xunit;

namespace MailCluster.Events.Tests;

public class JournalGapCursorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Contiguous_rows_are_all_handed_on()
    {
        var cursor = new JournalGapCursor(10);
        Assert.Equal(3, cursor.Accept([11, 12, 13], 100, 105, T0));
        Assert.Equal(13, cursor.After);
        Assert.False(cursor.Waiting);
    }

    [Fact]
    public void Rows_after_a_gap_wait_until_the_gap_is_filled()
    {
        var cursor = new JournalGapCursor(10);
        Assert.Equal(1, cursor.Accept([11, 13, 14], 100, 105, T0));
        Assert.Equal(11, cursor.After);
        Assert.True(cursor.Waiting);

        // Still open a moment later (its transaction has not committed), then filled.
        Assert.Equal(0, cursor.Accept([13, 14], 100, 106, T0.AddMilliseconds(100)));
        Assert.Equal(3, cursor.Accept([12, 13, 14], 101, 107, T0.AddMilliseconds(200)));
        Assert.Equal(14, cursor.After);
        Assert.False(cursor.Waiting);
    }

    [Fact]
    public void A_gap_is_passed_once_every_transaction_in_flight_when_it_was_seen_has_ended_and_it_is_old_enough()
    {
        var cursor = new JournalGapCursor(0);
        Assert.Equal(1, cursor.Accept([1, 3], 50, 60, T0)); // first seen: transactions below xid 60 may still fill it

        // Those transactions have ended (xmin 60), but the gap is younger than the minimum age: wait.
        Assert.Equal(0, cursor.Accept([3], 60, 61, T0 + JournalGapCursor.MinGapAge - TimeSpan.FromMilliseconds(1)));

        // Old enough, but a transaction that was in flight then is still running (xmin 59): wait.
        var cursor2 = new JournalGapCursor(0);
        cursor2.Accept([1, 3], 50, 60, T0);
        Assert.Equal(0, cursor2.Accept([3], 59, 70, T0 + JournalGapCursor.MinGapAge));

        // Both hold: the gap never fills (a rollback); the rows above it go on.
        Assert.Equal(1, cursor.Accept([3], 60, 61, T0 + JournalGapCursor.MinGapAge));
        Assert.Equal(3, cursor.After);
        Assert.False(cursor.Waiting);
    }

    [Fact]
    public void A_gap_held_open_by_an_old_transaction_is_passed_after_the_maximum_age()
    {
        var cursor = new JournalGapCursor(0);
        cursor.Accept([2], 50, 60, T0);
        Assert.Equal(0, cursor.Accept([2], 50, 90, T0 + JournalGapCursor.MaxGapAge - TimeSpan.FromMilliseconds(1)));
        Assert.Equal(1, cursor.Accept([2], 50, 90, T0 + JournalGapCursor.MaxGapAge));
        Assert.Equal(2, cursor.After);
    }

    [Fact]
    public void A_new_gap_starts_its_own_clock()
    {
        var cursor = new JournalGapCursor(0);
        cursor.Accept([2], 50, 60, T0);
        Assert.Equal(1, cursor.Accept([2, 4], 60, 70, T0 + JournalGapCursor.MinGapAge)); // gap at 1 passed, stops at 3
        Assert.Equal(2, cursor.After);

        // The gap at 3 was first seen now: the earlier one's age does not count for it.
        Assert.Equal(0, cursor.Accept([4], 80, 81, T0 + JournalGapCursor.MinGapAge + TimeSpan.FromMilliseconds(100)));
        Assert.Equal(1, cursor.Accept([4], 80, 81, T0 + JournalGapCursor.MinGapAge * 2));
        Assert.Equal(4, cursor.After);
    }

    [Fact]
    public void An_empty_read_changes_nothing()
    {
        var cursor = new JournalGapCursor(7);
        Assert.Equal(0, cursor.Accept([], 5, 6, T0));
        Assert.Equal(7, cursor.After);
        Assert.False(cursor.Waiting);
    }

    [Fact]
    public void A_row_at_or_below_the_cursor_is_refused()
    {
        var cursor = new JournalGapCursor(7);
        Assert.Throws<ArgumentException>(() => cursor.Accept([7], 5, 6, T0));
    }
}
