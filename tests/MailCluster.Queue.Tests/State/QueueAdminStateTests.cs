using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>Queue administration as pure state transitions: list, flush, delete, bounce (DomainQueueState.Admin.cs).</summary>
public class QueueAdminStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(new RetryOptions { InitialSeconds = 60, MaxSeconds = 600, MaxAgeSeconds = 3600, Jitter = 0 });
    private static readonly HashSet<string> NoneInFlight = [];

    private static DomainQueueState Enqueue(DomainQueueState state, string id, DateTimeOffset at, string sender = "s@sender.test", params string[] recipients) =>
        state.Apply(state.Decide(new Enqueue("example.com", id, sender, recipients.Length == 0 ? ["a@example.com"] : recipients, at))!);

    private static DomainQueueState Defer(DomainQueueState state, string id, DateTimeOffset now, string recipient = "a@example.com") =>
        state.Apply(state.Decide(id, new DeliveryResult([new RecipientOutcome(recipient, OutcomeKind.Transient, 451, "4.3.0", "try later")], "mx", null), now, Retry, () => 0.5)!);

    /// <summary>M1 (deferred to T0+65s), M2 (due at T0+2s), M3 (deferred to T0+63s after arriving at T0+3s).</summary>
    private static DomainQueueState ThreeMessages()
    {
        var s = DomainQueueState.Empty("example.com");
        s = Enqueue(s, "M1", T0);
        s = Enqueue(s, "M2", T0.AddSeconds(2), "s@sender.test", "b@example.com", "c@example.com");
        s = Enqueue(s, "M3", T0.AddSeconds(3));
        s = Defer(s, "M1", T0.AddSeconds(5));
        return Defer(s, "M3", T0.AddSeconds(3));
    }

    [Fact]
    public void List_pages_by_next_attempt_with_each_recipients_state_and_last_error()
    {
        var state = ThreeMessages();
        var now = T0.AddSeconds(10);

        var first = state.List(0, 2, new HashSet<string> { "M2" }, now, 64 * 1024);

        Assert.Equal(3, first.Total);
        Assert.Equal(["M2", "M3"], first.Messages.Select(m => m.MessageId));
        Assert.Equal(2, first.NextOffset);
        var m2 = first.Messages[0];
        Assert.Equal(("s@sender.test", T0.AddSeconds(2), T0.AddSeconds(2)), (m2.Sender, m2.ArrivedAt, m2.NextAttemptAt));
        Assert.All(m2.Recipients, r => Assert.Equal(RecipientStates.InFlight, r.State));
        var m3 = Assert.Single(first.Messages[1].Recipients);
        Assert.Equal((RecipientStates.Pending, 1, T0.AddSeconds(63), "451 4.3.0 try later"), (m3.State, m3.Attempts, m3.NextAttemptAt, m3.LastError));

        var second = state.List(2, 2, NoneInFlight, now, 64 * 1024);
        Assert.Equal("M1", Assert.Single(second.Messages).MessageId);
        Assert.Null(second.NextOffset);
        Assert.Empty(state.List(3, 2, NoneInFlight, now, 64 * 1024).Messages);
    }

    [Fact]
    public void List_stops_at_the_byte_budget_but_always_lists_one()
    {
        var state = ThreeMessages();
        var page = state.List(0, 100, NoneInFlight, T0, 1);
        Assert.Single(page.Messages);
        Assert.Equal(1, page.NextOffset);
    }

    [Fact]
    public void Flush_makes_every_deferred_recipient_due_now_and_replays_the_same()
    {
        var state = ThreeMessages();
        var now = T0.AddSeconds(10);
        Assert.Equal(2, state.DeferredAt(now));
        Assert.Equal(["M2"], state.Due(now).Select(m => m.MessageId));

        var e = state.DecideFlush(now)!;
        var flushed = state.Apply(e);

        Assert.Equal(["M1", "M2", "M3"], flushed.Due(now).Select(m => m.MessageId).Order(StringComparer.Ordinal));
        Assert.Equal(now, flushed.Messages["M1"].Pending[0].NextAttemptAt);
        Assert.Equal(T0.AddSeconds(2), flushed.Messages["M2"].Pending[0].NextAttemptAt); // already due: unchanged
        Assert.Equal(1, flushed.Messages["M1"].Pending[0].Attempts);                     // attempts and error kept
        Assert.Equal("451 4.3.0 try later", flushed.Messages["M1"].Pending[0].LastError);
        Assert.Null(flushed.DecideFlush(now));                                           // nothing deferred any more
        Assert.Equal(flushed.ToSnapshot(), DomainQueueState.FromSnapshot(flushed.ToSnapshot()).ToSnapshot(), SnapshotComparer.Instance);
    }

    [Fact]
    public void Delete_removes_the_message_and_is_a_no_op_for_an_unknown_one()
    {
        var state = ThreeMessages();
        Assert.Null(state.DecideDelete("nope", T0));

        var e = state.DecideDelete("M3", T0.AddSeconds(10))!;
        var after = state.Apply(e);

        Assert.False(after.Messages.ContainsKey("M3"));
        Assert.Equal(2, after.ByNextAttempt.Count);
        Assert.Null(after.DecideDelete("M3", T0));
        Assert.Same(after, after.Apply(e)); // replayed twice: unchanged
    }

    [Fact]
    public void Bounce_fails_every_pending_recipient_and_reports_to_the_sender()
    {
        var state = Defer(ThreeMessages(), "M2", T0.AddSeconds(20), "b@example.com");

        var e = state.DecideBounce("M2", T0.AddSeconds(30), Retry)!;

        Assert.Equal(["b@example.com", "c@example.com"], e.Results.Select(r => r.Recipient));
        Assert.All(e.Results, r => Assert.Equal((RecipientResultKind.Failed, DomainQueueState.BouncedStatus, DsnPolicy.Failed, 0), (r.Kind, r.EnhancedCode, r.Report, r.Code)));
        Assert.Equal($"{DomainQueueState.BouncedText}; last attempt: 451 4.3.0 try later", e.Results[0].Text);
        Assert.Equal(DomainQueueState.BouncedText, e.Results[1].Text);

        var after = state.Apply(e);
        var message = after.Messages["M2"]; // kept for its DSN lines, no longer pending
        Assert.Empty(message.Pending);
        Assert.Equal(["b@example.com", "c@example.com"], message.Reports.Select(r => r.Recipient));
        Assert.Contains(after.ReportsDue, m => m.MessageId == "M2");
        Assert.DoesNotContain(after.ByNextAttempt.InOrder(), k => k.MessageId == "M2");
        Assert.Null(after.DecideBounce("M2", T0.AddSeconds(31), Retry)); // nothing pending any more
        Assert.Null(after.DecideBounce("nope", T0, Retry));
    }

    [Fact]
    public void Bounce_of_a_null_sender_message_sends_no_dsn()
    {
        var state = Enqueue(DomainQueueState.Empty("example.com"), "B1", T0, "");
        var e = state.DecideBounce("B1", T0.AddSeconds(1), Retry)!;
        Assert.Null(Assert.Single(e.Results).Report);
        Assert.True(state.Apply(e).IsEmpty); // gone: nothing pending, nothing to report
    }

    [Fact]
    public void Flushed_destination_is_probed_now_keeping_its_failure_count()
    {
        var backingOff = DestinationShaping.Initial.ConnectFailed(T0, Retry);
        Assert.False(backingOff.CanOpen(T0.AddSeconds(1), 0, 10));

        var flushed = backingOff.Flushed(T0.AddSeconds(1));

        Assert.True(flushed.CanOpen(T0.AddSeconds(1), 0, 10));
        Assert.False(flushed.CanOpen(T0.AddSeconds(1), 1, 10)); // still one probe at a time
        Assert.Equal(1, flushed.ConnectFailures);
        Assert.Same(DestinationShaping.Initial, DestinationShaping.Initial.Flushed(T0));
    }

    /// <summary>Snapshots hold lists: compare their JSON.</summary>
    private sealed class SnapshotComparer : IEqualityComparer<DomainQueueSnapshot>
    {
        public static readonly SnapshotComparer Instance = new();

        public bool Equals(DomainQueueSnapshot? x, DomainQueueSnapshot? y) =>
            System.Text.Json.JsonSerializer.Serialize(x) == System.Text.Json.JsonSerializer.Serialize(y);

        public int GetHashCode(DomainQueueSnapshot obj) => 0;
    }
}
