using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Queue.State;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>The operator's hold as pure state and scheduling: never attempted while held, never expiring while held
/// (the age clock stops), recovered from the events and from a snapshot (DomainQueueState.Hold.cs).</summary>
public class OnHoldStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(new RetryOptions { InitialSeconds = 60, MaxSeconds = 600, MaxAgeSeconds = 3600, Jitter = 0 });
    private static readonly QueueOptions Options = new() { MaxConcurrentDeliveriesPerDomain = 10, CommitGraceSeconds = 120 };

    private static DeliveryScheduler Scheduler() => new(new DomainShaping(2, 100, null, TimeSpan.FromSeconds(5)), Options, Retry);

    private static DomainQueueState Queue(params string[] ids)
    {
        var state = DomainQueueState.Empty("example.com");
        foreach (var id in ids)
        {
            state = state.Apply(new Enqueued("example.com", id, "s@sender.test", [$"a-{id}@example.com"], T0));
        }

        return state;
    }

    private static DomainQueueState Hold(DomainQueueState state, string id, DateTimeOffset at)
    {
        var (outcome, e) = state.DecideHold(id, at);
        Assert.Equal(HoldOutcome.OnHold, outcome);
        return state.Apply(e!);
    }

    private static DomainQueueState Release(DomainQueueState state, string id, DateTimeOffset at)
    {
        var (outcome, e) = state.DecideRelease(id, at);
        Assert.Equal(HoldOutcome.Released, outcome);
        return state.Apply(e!);
    }

    private static DeliveryResult Transient(string recipient) =>
        new([new RecipientOutcome(recipient, OutcomeKind.Transient, 451, "4.3.0", "try later")], "mx", null);

    [Fact]
    public void A_held_message_is_never_started_nor_woken_for_and_is_due_again_once_released()
    {
        var state = Hold(Queue("M1", "M2"), "M1", T0);
        var scheduler = Scheduler();

        var (_, step) = scheduler.Next(state, writing: false, T0.AddHours(3));
        Assert.Equal(["M2"], step.Starts.Select(s => s.Message.MessageId));
        Assert.Equal(["M1"], state.OnHold);
        Assert.Equal(1, state.OnHoldCount);

        // With only the held message left, the queue has nothing to wake for (and stays alive: it is not empty).
        var onlyHeld = Hold(Queue("M1"), "M1", T0);
        (_, step) = scheduler.Next(onlyHeld, writing: false, T0.AddHours(3));
        Assert.Equal(StepKind.Run, step.Kind);
        Assert.Empty(step.Starts);
        Assert.Null(step.WakeAt);

        // Released: due at once (its next attempt passed during the hold).
        var released = Release(onlyHeld, "M1", T0.AddHours(3));
        (_, step) = scheduler.Next(released, writing: false, T0.AddHours(3));
        Assert.Equal(["M1"], step.Starts.Select(s => s.Message.MessageId));
        Assert.Equal(0, released.OnHoldCount);
    }

    [Fact]
    public void Hold_and_release_are_idempotent_and_unknown_messages_are_not_found()
    {
        var state = Hold(Queue("M1"), "M1", T0);

        Assert.Equal((HoldOutcome.AlreadyOnHold, (MessageOnHold?)null), state.DecideHold("M1", T0.AddMinutes(1)));
        Assert.Equal((HoldOutcome.NotFound, (MessageOnHold?)null), state.DecideHold("nope", T0));
        Assert.Equal((HoldOutcome.NotFound, (MessageReleased?)null), state.DecideRelease("nope", T0));

        var released = Release(state, "M1", T0.AddMinutes(2));
        Assert.Equal((HoldOutcome.NotOnHold, (MessageReleased?)null), released.DecideRelease("M1", T0.AddMinutes(3)));

        // A replayed event changes nothing twice.
        Assert.Same(state, state.Apply(new MessageOnHold("M1", T0.AddMinutes(5))));
        Assert.Same(released, released.Apply(new MessageReleased("M1", T0.AddMinutes(5))));
    }

    [Fact]
    public void The_age_clock_stops_while_on_hold_so_a_held_message_outlives_its_maximum_age()
    {
        // Max age 1 h. Deferred at T0+10m, held from T0+20m to T0+5h, then an attempt fails at T0+5h10m: its age for
        // expiry is 10m + 10m = 20 minutes, so it is deferred, not expired, with the retry delay bounded by what is left.
        var state = Queue("M1");
        state = state.Apply(state.Decide("M1", Transient("a-M1@example.com"), T0.AddMinutes(10), Retry, () => 0.5)!);
        state = Hold(state, "M1", T0.AddMinutes(20));
        Assert.Equal(TimeSpan.FromMinutes(20), state.Messages["M1"].AgeAt(T0.AddHours(4)));

        state = Release(state, "M1", T0.AddHours(5));
        var at = T0.AddHours(5).AddMinutes(10);
        Assert.Equal(TimeSpan.FromMinutes(30), state.Messages["M1"].AgeAt(at));
        var attempt = state.Decide("M1", Transient("a-M1@example.com"), at, Retry, () => 0.5)!;
        var result = Assert.Single(attempt.Results);
        Assert.Equal(RecipientResultKind.Deferred, result.Kind);
        Assert.Equal(at.AddMinutes(2), result.NextAttemptAt); // attempt 2: 60 s doubled

        // Without the hold the same attempt is long past the maximum age: it expires.
        var unheld = Queue("M1");
        unheld = unheld.Apply(unheld.Decide("M1", Transient("a-M1@example.com"), T0.AddMinutes(10), Retry, () => 0.5)!);
        Assert.Equal(RecipientResultKind.Expired, Assert.Single(unheld.Decide("M1", Transient("a-M1@example.com"), at, Retry, () => 0.5)!.Results).Kind);

        // The last attempt is still made at the maximum age, counted without the hold: 40 minutes after this attempt.
        state = state.Apply(attempt);
        var late = state.Decide("M1", Transient("a-M1@example.com"), at.AddMinutes(40), Retry, () => 0.5)!;
        Assert.Equal(RecipientResultKind.Expired, Assert.Single(late.Results).Kind);
    }

    [Fact]
    public void A_hold_survives_a_snapshot_and_the_released_time_with_it()
    {
        var state = Hold(Release(Hold(Queue("M1", "M2"), "M1", T0.AddMinutes(1)), "M1", T0.AddMinutes(11)), "M1", T0.AddMinutes(20));

        var back = DomainQueueState.FromSnapshot(state.ToSnapshot());

        Assert.Equal(["M1"], back.OnHold);
        Assert.Equal(T0.AddMinutes(20), back.Messages["M1"].OnHoldSince);
        Assert.Equal(TimeSpan.FromMinutes(10), back.Messages["M1"].HeldBefore);
        Assert.Equal(["M2"], back.ByNextAttempt.InOrder().Select(m => m.MessageId));
        Assert.Equal(TimeSpan.FromMinutes(10), back.Messages["M1"].AgeAt(T0.AddMinutes(40))); // 40 - 10 released - 20 on hold now

        // A message never held keeps the snapshot shape it always had.
        var plain = Assert.Single(back.ToSnapshot().Messages, m => m.MessageId == "M2");
        Assert.Null(plain.OnHoldSince);
        Assert.Null(plain.HeldSeconds);
    }

    [Fact]
    public void A_held_message_is_listed_after_the_due_ones_as_on_hold_and_a_flush_leaves_it_held()
    {
        var state = Hold(Queue("M1", "M2"), "M1", T0);

        var listing = state.List(0, 10, new HashSet<string>(), T0.AddMinutes(1), 64 * 1024);
        Assert.Equal(2, listing.Total);
        Assert.Equal(["M2", "M1"], listing.Messages.Select(m => m.MessageId));
        Assert.Equal(RecipientStates.OnHold, Assert.Single(listing.Messages[1].Recipients).State);
        Assert.Equal(RecipientStates.Pending, Assert.Single(listing.Messages[0].Recipients).State);

        var page2 = state.List(1, 1, new HashSet<string>(), T0.AddMinutes(1), 64 * 1024);
        Assert.Equal("M1", Assert.Single(page2.Messages).MessageId);
        Assert.Null(page2.NextOffset);

        var deferred = state.Apply(state.Decide("M2", Transient("a-M2@example.com"), T0, Retry, () => 0.5)!);
        var flushed = deferred.Apply(deferred.DecideFlush(T0.AddSeconds(1))!);
        Assert.True(flushed.Messages["M1"].IsOnHold);
        Assert.Equal(["M2"], flushed.Due(T0.AddSeconds(1)).Select(m => m.MessageId));
    }

    [Fact]
    public void A_delivery_running_when_held_records_its_outcome_and_no_new_attempt_starts()
    {
        var state = Queue("M1");
        var (running, step) = Scheduler().Next(state, writing: false, T0);
        Assert.Single(step.Starts);

        state = Hold(state, "M1", T0.AddSeconds(1));
        var finished = new DeliveryFinished("M1", SpoolStatus.Committed, Transient("a-M1@example.com"), null, Closing: false);
        var (after, decision) = running.Finished(state, 1, finished, T0.AddSeconds(2));
        var outcome = Assert.IsType<RecordOutcome>(decision);
        var attempt = state.Decide("M1", outcome.Result, T0.AddSeconds(2), Retry, () => 0.5)!;
        state = state.Apply(attempt);
        after = after.Applied(attempt, T0.AddSeconds(2));

        Assert.True(state.Messages["M1"].IsOnHold);
        Assert.Equal(1, state.Messages["M1"].Pending[0].Attempts);
        var (_, next) = after.Next(state, writing: false, T0.AddHours(2));
        Assert.Empty(next.Starts);
    }

    [Fact]
    public void A_delivered_message_can_no_longer_be_held()
    {
        var state = Queue("M1");
        state = state.Apply(state.Decide("M1", new DeliveryResult([new RecipientOutcome("a-M1@example.com", OutcomeKind.Delivered, 250, "2.0.0", "ok")], "mx", null), T0, Retry, () => 0.5)!);
        Assert.Equal(HoldOutcome.NotFound, state.DecideHold("M1", T0).Outcome);
    }
}
