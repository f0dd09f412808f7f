using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;
using MailCluster.Queue.Views;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>The read-only view of a queue (DomainQueueState.View.cs) and the summary's order and cursor.</summary>
public class QueueViewStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(new RetryOptions { InitialSeconds = 60, MaxSeconds = 600, MaxAgeSeconds = 3600, Jitter = 0 });

    private static DomainQueueState Enqueue(DomainQueueState state, string id, DateTimeOffset at, params string[] recipients) =>
        state.Apply(state.Decide(new Enqueue("example.com#1", id, "s@sender.test", recipients, at))!);

    private static DomainQueueState Attempt(DomainQueueState state, string id, DateTimeOffset now, params RecipientOutcome[] outcomes) =>
        state.Apply(state.Decide(id, new DeliveryResult(outcomes, "mx", null), now, Retry, () => 0.5)!);

    /// <summary>M1 at T0: a deferred twice (last 452), b failed (a DSN line left); M2 at T0+5s: c never tried.</summary>
    private static DomainQueueState Queue()
    {
        var s = DomainQueueState.Empty("example.com#1");
        s = Enqueue(s, "M1", T0, "a@example.com", "b@example.com");
        s = Enqueue(s, "M2", T0.AddSeconds(5), "c@example.com");
        s = Attempt(s, "M1", T0.AddSeconds(1), new RecipientOutcome("a@example.com", OutcomeKind.Transient, 451, "4.3.0", "first"),
            new RecipientOutcome("b@example.com", OutcomeKind.Permanent, 550, "5.1.1", "no such user"));
        return Attempt(s, "M1", T0.AddSeconds(70), new RecipientOutcome("a@example.com", OutcomeKind.Transient, 452, "4.2.2", "full"));
    }

    [Fact]
    public void The_summary_counts_pending_and_deferred_recipients_with_the_oldest_arrival_and_latest_reply()
    {
        var row = Queue().Summarize(new HashSet<string>(), T0.AddSeconds(80));

        Assert.Equal(("example.com#1", "example.com", 2, 1, 1, 0, 0), (row.Queue, row.Domain, row.Messages, row.Pending, row.Deferred, row.Held, row.InFlight));
        Assert.Equal(T0, row.OldestArrivedAt);
        Assert.Equal("452 4.2.2 full", row.LastReply);
        Assert.Null(row.SuspendedUntil);
        Assert.Null(row.Node);

        var empty = DomainQueueState.Empty("example.com").Summarize(new HashSet<string>(), T0);
        Assert.Equal((0, 0, 0, (DateTimeOffset?)null, (string?)null), (empty.Messages, empty.Pending, empty.Deferred, empty.OldestArrivedAt, empty.LastReply));
    }

    [Fact]
    public void A_due_recipient_of_a_running_message_counts_as_pending_and_in_flight()
    {
        var state = Queue();
        var at = state.Messages["M1"].NextAttemptAt;

        var row = state.Summarize(new HashSet<string> { "M1" }, at);

        Assert.Equal((2, 0, 1), (row.Pending, row.Deferred, row.InFlight));
    }

    [Fact]
    public void Inspect_shows_each_queued_recipient_and_the_dsn_lines_left()
    {
        var detail = Queue().Inspect("M1", new HashSet<string>(), T0.AddSeconds(80));

        Assert.True(detail.Found);
        Assert.Equal(("example.com#1", "s@sender.test", T0), (detail.Queue, detail.Sender, detail.ArrivedAt));
        var a = Assert.Single(detail.Recipients);
        Assert.Equal(("a@example.com", "deferred", 2, "452 4.2.2 full"), (a.Address, a.State, a.Attempts, a.LastReply));
        Assert.True(a.NextAttemptAt > T0.AddSeconds(80));
        var b = Assert.Single(detail.Reports);
        Assert.Equal(("b@example.com", "failed", "550 5.1.1 no such user", (DateTimeOffset?)null), (b.Address, b.State, b.LastReply, b.NextAttemptAt));

        Assert.Equal("pending", Queue().Inspect("M2", new HashSet<string>(), T0.AddSeconds(80)).Recipients[0].State);
        Assert.False(Queue().Inspect("M9", new HashSet<string>(), T0).Found);
    }

    private static QueueSummaryRow Row(string queue, int pending, int deferred, DateTimeOffset? oldest) =>
        new(queue, queue.Split('#')[0], 1, pending, deferred, 0, 0, oldest, null, null, null, "node");

    private static readonly QueueSummaryRow[] Rows =
    [
        Row("b.test", 5, 1, T0.AddSeconds(10)),
        Row("a.test", 5, 3, T0),
        Row("c.test", 0, 7, null),
        Row("a.test#0", 9, 0, T0.AddSeconds(5)),
    ];

    [Theory]
    [InlineData(QueueSort.Oldest, false, "a.test,a.test#0,b.test,c.test")]
    [InlineData(QueueSort.Pending, true, "a.test#0,a.test,b.test,c.test")]
    [InlineData(QueueSort.Deferred, true, "c.test,a.test,b.test,a.test#0")]
    [InlineData(QueueSort.Domain, false, "a.test,a.test#0,b.test,c.test")]
    [InlineData(QueueSort.Domain, true, "c.test,b.test,a.test#0,a.test")]
    public void Keyset_pages_concatenate_to_the_whole_order(QueueSort sort, bool descending, string expected)
    {
        var order = new QueueSummaryOrder(sort, descending);
        var seen = new List<string>();
        QueueSummaryCursor? cursor = null;
        do
        {
            var page = order.Page(Rows, cursor, 3 - seen.Count % 2); // pages of 3 and 2
            seen.AddRange(page.Select(r => r.Queue));
            cursor = page.Count > 0 ? order.Decode(order.Encode(order.CursorOf(page[^1]))) : null;
        }
        while (cursor is not null);

        Assert.Equal(expected, string.Join(',', seen));
    }

    [Fact]
    public void A_cursor_is_bound_to_its_sort_and_direction()
    {
        var cursor = new QueueSummaryOrder(QueueSort.Pending, true).Encode(new QueueSummaryCursor(5, "a.test"));

        Assert.Equal(new QueueSummaryCursor(5, "a.test"), new QueueSummaryOrder(QueueSort.Pending, true).Decode(cursor));
        Assert.Null(new QueueSummaryOrder(QueueSort.Pending, false).Decode(cursor));
        Assert.Null(new QueueSummaryOrder(QueueSort.Domain, true).Decode(cursor));
        Assert.Null(new QueueSummaryOrder(QueueSort.Pending, true).Decode("nonsense"));
        Assert.Null(new QueueSummaryOrder(QueueSort.Pending, true).Decode("q1.!!!"));
    }

    [Fact]
    public void The_summary_and_the_inspection_show_an_operators_hold_and_the_destinations_suspension()
    {
        var held = Queue().Apply(new MessageOnHold("M2", T0.AddSeconds(75)));
        var suspension = new MailCluster.Queue.Suspensions.DestinationSuspension("example.com", "maintenance", T0, T0.AddHours(1));

        var row = held.Summarize(new HashSet<string>(), T0.AddSeconds(80), suspension);
        Assert.Equal(1, row.Held);
        Assert.Equal((T0.AddHours(1), "maintenance"), (row.SuspendedUntil, row.SuspensionReason));

        var detail = held.Inspect("M2", new HashSet<string>(), T0.AddSeconds(80));
        Assert.Equal(RecipientStates.OnHold, Assert.Single(detail.Recipients).State);
    }
}
