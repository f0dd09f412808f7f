using MailCluster.Queue;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;
using Xunit;

namespace MailCluster.Queue.Tests.State;

public class DomainQueueStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(new RetryOptions { InitialSeconds = 60, MaxSeconds = 600, MaxAgeSeconds = 3600, Jitter = 0 });

    private static DomainQueueState WithMessage(params string[] recipients)
    {
        var state = DomainQueueState.Empty("example.com");
        var e = state.Decide(new Enqueue("example.com", "M1", "s@sender.test", recipients, T0));
        return state.Apply(e!);
    }

    private static DeliveryResult Result(params RecipientOutcome[] outcomes) => new(outcomes, "mx.example.com", null);

    [Fact]
    public void Enqueue_adds_a_message_due_at_arrival()
    {
        var state = WithMessage("a@example.com", "b@example.com");
        var message = Assert.Single(state.Messages.Values);
        Assert.Equal(2, message.Pending.Count);
        Assert.Single(state.Due(T0));
        Assert.Empty(state.Due(T0.AddSeconds(-1)));
    }

    [Fact]
    public void Enqueue_is_idempotent()
    {
        var state = WithMessage("a@example.com");
        Assert.Null(state.Decide(new Enqueue("example.com", "M1", "s@sender.test", ["a@example.com"], T0)));
        var replayed = state.Apply(new Enqueued("example.com", "M1", "x", ["z@example.com"], T0));
        Assert.Equal("a@example.com", Assert.Single(replayed.Messages["M1"].Pending).Address);
    }

    [Fact]
    public void Delivered_and_failed_recipients_are_final_deferred_ones_wait()
    {
        var state = WithMessage("a@example.com", "b@example.com", "c@example.com");
        var now = T0.AddSeconds(5);
        var attempt = state.Decide("M1", Result(
            new RecipientOutcome("a@example.com", OutcomeKind.Delivered, 250, "2.0.0", "ok"),
            new RecipientOutcome("b@example.com", OutcomeKind.Permanent, 550, "5.1.1", "no such user"),
            new RecipientOutcome("c@example.com", OutcomeKind.Transient, 451, "4.3.0", "later")), now, Retry, () => 0.5)!;

        Assert.Equal([RecipientResultKind.Delivered, RecipientResultKind.Failed, RecipientResultKind.Deferred], attempt.Results.Select(r => r.Kind));
        Assert.Equal(now.AddSeconds(60), attempt.Results[2].NextAttemptAt);

        state = state.Apply(attempt);
        var pending = Assert.Single(state.Messages["M1"].Pending);
        Assert.Equal(("c@example.com", 1), (pending.Address, pending.Attempts));
        Assert.Empty(state.Due(now.AddSeconds(59)));
        Assert.Single(state.Due(now.AddSeconds(60)));
    }

    [Fact]
    public void Backoff_grows_per_recipient_attempt()
    {
        var state = WithMessage("a@example.com");
        var now = T0;
        var gaps = new List<double>();
        for (var i = 0; i < 4; i++)
        {
            var attempt = state.Decide("M1", Result(new RecipientOutcome("a@example.com", OutcomeKind.Transient, 451, "4.3.0", "later")), now, Retry, () => 0.5)!;
            var next = attempt.Results[0].NextAttemptAt!.Value;
            gaps.Add((next - now).TotalSeconds);
            state = state.Apply(attempt);
            now = next;
        }

        Assert.Equal([60, 120, 240, 480], gaps);
    }

    [Fact]
    public void Transient_past_max_age_expires_and_the_message_completes_once_its_DSN_is_queued()
    {
        var state = WithMessage("a@example.com");
        var attempt = state.Decide("M1", Result(new RecipientOutcome("a@example.com", OutcomeKind.Transient, 421, "4.4.2", "gone")), T0.AddHours(2), Retry, () => 0.5)!;
        Assert.Equal(RecipientResultKind.Expired, attempt.Results[0].Kind);
        Assert.Equal("failed", attempt.Results[0].Report);
        state = state.Apply(attempt);
        var report = Assert.Single(Assert.Single(state.ReportsDue).Reports);
        Assert.Equal(("a@example.com", "failed", "4.4.2", 421, "mx.example.com"), (report.Recipient, report.Action, report.Status, report.Code, report.RemoteMta));
        Assert.Empty(state.Due(T0.AddDays(1)));

        var queued = state.DecideDsnQueued("M1", ["a@example.com"], "DSN1", T0.AddHours(2))!;
        Assert.True(state.Apply(queued).IsEmpty);
    }

    [Fact]
    public void Outcomes_for_unknown_messages_or_recipients_decide_nothing()
    {
        var state = WithMessage("a@example.com");
        Assert.Null(state.Decide("M2", Result(new RecipientOutcome("a@example.com", OutcomeKind.Delivered, 250, "2.0.0", "ok")), T0, Retry, () => 0.5));
        Assert.Null(state.Decide("M1", Result(new RecipientOutcome("x@example.com", OutcomeKind.Delivered, 250, "2.0.0", "ok")), T0, Retry, () => 0.5));
    }

    [Fact]
    public void Abandoned_message_is_removed()
    {
        var state = WithMessage("a@example.com").Apply(new MessageAbandoned("M1", T0, "never committed"));
        Assert.True(state.IsEmpty);
    }

    [Fact]
    public void Snapshot_round_trips()
    {
        var state = WithMessage("a@example.com", "b@example.com");
        var attempt = state.Decide("M1", Result(new RecipientOutcome("a@example.com", OutcomeKind.Transient, 451, "4.3.0", "later")), T0, Retry, () => 0.5)!;
        state = state.Apply(attempt);
        var restored = DomainQueueState.FromSnapshot(state.ToSnapshot());
        Assert.Equal(state.Domain, restored.Domain);
        Assert.Equal(state.Messages["M1"].Pending, restored.Messages["M1"].Pending);
    }
}
