using Akka.Event;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Events;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Queue.State;
using MailCluster.Queue.Suspensions;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>The domain queue's decisions as its actor carries them out (<see cref="DomainQueueCore{TReply}"/>): what is
/// persisted, answered and logged for each command, the group commit's acknowledgements, the snapshot cadence and the
/// one timer. Driven with fixed instants (every one is an argument).</summary>
public class DomainQueueCoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(new RetryOptions { InitialSeconds = 60, MaxSeconds = 600, MaxAgeSeconds = 3600, Jitter = 0 });

    private static DomainQueueCore<string> Core(int snapshotEvery = 200) =>
        new("example.com", new DomainShaping(2, 100, null, TimeSpan.FromSeconds(5)), new QueueOptions { SnapshotEvery = snapshotEvery }, Retry, () => 0.5, "node:1");

    private static Enqueue Enqueue(string id) => new("example.com", id, "s@sender.test", [$"a@example.com"], T0)
    {
        Details = new ReceptionDetails(id, null, 100, null, null, "client.test", "127.0.0.1", null, null, null),
    };

    /// <summary>Queues <paramref name="ids"/> through one group commit and applies it, as the actor does.</summary>
    private static DomainQueueCore<string> Queued(params string[] ids)
    {
        var core = Core();
        foreach (var id in ids)
        {
            core.Add(Enqueue(id), "session-" + id);
        }

        var batch = core.StartWrite()!;
        foreach (var e in batch.Events)
        {
            core.Apply(e, T0);
        }

        _ = core.Written(batch).ToList();
        return core;
    }

    private static DeliveryFinished Delivered(string id) =>
        new(id, SpoolStatus.Committed, new DeliveryResult([new RecipientOutcome("a@example.com", OutcomeKind.Delivered, 250, "2.0.0", "ok")], "mx.example.com", null), null, Closing: false);

    [Fact]
    public void A_group_commit_persists_each_enqueued_with_its_reception_details_and_acknowledges_every_sender_once_written()
    {
        var core = Core();
        core.Add(Enqueue("M1"), "s1");
        var batch = core.StartWrite()!;
        core.Add(Enqueue("M2"), "s2");
        Assert.Null(core.StartWrite()); // one write in flight at a time

        var enqueued = Assert.IsType<Enqueued>(Assert.Single(batch.Events)); // one row per event: the details ride inside
        Assert.Equal("node:1", enqueued.Details?.Node);
        Assert.Equal("client.test", enqueued.Details?.PeerName);
        foreach (var e in batch.Events)
        {
            core.Apply(e, T0);
        }

        Assert.Equal([("s1", new EnqueueAck("example.com", "M1"))], core.Written(batch));
        Assert.Equal(["M2"], core.StartWrite()!.Events.OfType<Enqueued>().Select(e => e.MessageId));
    }

    [Fact]
    public void A_delivered_outcome_goes_into_the_next_write_and_the_applied_attempt_releases_the_body()
    {
        var core = Queued("M1");
        core.Committed("M1");
        var (step, _) = core.Next(T0, null);
        var start = Assert.Single(step.Starts);

        var decision = core.Finished(DeliveryScheduler.ConnectionName(start.Connection), Delivered("M1"), T0.AddSeconds(1));
        Assert.Same(QueueDecision.WriteOnly, decision);
        var batch = core.StartWrite()!;
        var attempt = Assert.IsType<AttemptCompleted>(Assert.Single(batch.Events));
        Assert.Equal("mx.example.com", attempt.Details?.PeerName);

        var applied = core.Apply(attempt, T0.AddSeconds(1));
        Assert.Equal("M1", applied.Before?.MessageId); // the mail log's line reads the message as it was
        Assert.Equal("M1", applied.Release);
        Assert.True(core.State.IsEmpty);
        Assert.Empty(core.Written(batch));
        // Empty, with the connection still open and idle: the queue waits for it, at most the idle timeout.
        var (wait, timer) = core.Next(T0.AddSeconds(1), null);
        Assert.Equal((StepKind.Run, T0.AddSeconds(1) + core.Scheduler.Limits.IdleTimeout), (wait.Kind, wait.WakeAt));
        Assert.NotEqual(default, timer);
        core.ConnectionStopped(DeliveryScheduler.ConnectionName(start.Connection));
        Assert.Equal(StepKind.Passivate, core.Next(T0.AddSeconds(2), null).Step.Kind);
    }

    [Fact]
    public void A_run_that_throws_is_logged_and_recorded_as_a_transient_attempt()
    {
        var core = Queued("M1");
        core.Committed("M1");
        var start = Assert.Single(core.Next(T0, null).Step.Starts);

        var decision = core.Finished(DeliveryScheduler.ConnectionName(start.Connection), new DeliveryFinished("M1", SpoolStatus.Committed, null, new InvalidOperationException("boom")), T0);

        Assert.True(decision.Write);
        var note = Assert.Single(decision.Notes);
        Assert.Equal((LogLevel.WarningLevel, "boom"), (note.Level, note.Error?.Message));
        var attempt = Assert.Single(core.StartWrite()!.Events.OfType<AttemptCompleted>());
        Assert.Equal((RecipientResultKind.Deferred, DeliveryScheduler.RunFailedStatus), (attempt.Results[0].Kind, attempt.Results[0].EnhancedCode));
    }

    [Fact]
    public void An_abandonment_is_persisted_on_its_own_and_logged_once_applied()
    {
        var core = Queued("M1");
        core.Committed("M1");
        var start = Assert.Single(core.Next(T0, null).Step.Starts);

        var decision = core.Finished(DeliveryScheduler.ConnectionName(start.Connection), new DeliveryFinished("M1", SpoolStatus.Missing, null, null), T0.AddHours(1));

        Assert.Equal("M1", Assert.IsType<MessageAbandoned>(decision.Event).MessageId);
        Assert.Contains("abandoned", decision.Done!.Format, StringComparison.Ordinal);
        Assert.False(decision.Write);
    }

    [Fact]
    public void The_timer_is_set_once_per_instant_and_cancelled_when_nothing_waits()
    {
        var core = Queued("M1"); // waits for its commit nudge: at most 5 s
        Assert.Equal(new TimerChange(false, TimeSpan.FromSeconds(5)), core.Next(T0, null).Timer);
        Assert.Equal(default, core.Next(T0.AddSeconds(1), null).Timer); // the same instant: left alone

        Assert.Same(QueueDecision.None, core.Ticked()); // fired: the same instant is set again
        Assert.Equal(new TimerChange(false, TimeSpan.FromSeconds(4)), core.Next(T0.AddSeconds(1), null).Timer);

        core.Committed("M1");
        var (step, timer) = core.Next(T0.AddSeconds(1), null);
        Assert.Single(step.Starts);
        Assert.Equal(new TimerChange(true, null), timer); // nothing else waits
        Assert.Equal(default, core.Next(T0.AddSeconds(1), null).Timer);
    }

    [Fact]
    public void Hold_and_release_answer_after_the_event_and_say_whether_an_attempt_is_running()
    {
        var core = Queued("M1");
        core.Committed("M1");
        Assert.Single(core.Next(T0, null).Step.Starts);

        var hold = core.Hold("M1", T0.AddSeconds(10));
        Assert.IsType<MessageOnHold>(hold.Event);
        Assert.Equal(new MessageHoldAck("example.com", "M1", HoldOutcome.OnHold, InFlight: true), hold.Reply);
        Assert.Contains("the attempt running now finishes", hold.Done!.Format + hold.Done.Args[2], StringComparison.Ordinal);
        core.Apply(hold.Event!, T0.AddSeconds(10));

        Assert.Equal(QueueDecision.Answer(new MessageHoldAck("example.com", "M1", HoldOutcome.AlreadyOnHold, true)), core.Hold("M1", T0.AddSeconds(11)));
        var release = core.Release("M1", T0.AddSeconds(70));
        Assert.Equal(60.0, (double)release.Done!.Args[2]); // held for 60 s
        Assert.Equal(QueueDecision.Answer(new MessageHoldAck("example.com", "GONE", HoldOutcome.NotFound)), core.Release("GONE", T0));
    }

    [Fact]
    public void Delete_is_refused_while_busy_and_not_found_for_an_unknown_message()
    {
        var core = Queued("M1", "M2");
        core.Committed("M1");
        core.Next(T0, null);

        Assert.Equal(MessageAdminOutcome.InFlight, ((MessageAdminAck)core.Delete("M1", T0).Reply!).Outcome);
        Assert.Equal(MessageAdminOutcome.NotFound, ((MessageAdminAck)core.Delete("NOPE", T0).Reply!).Outcome);
        var delete = core.Delete("M2", T0);
        Assert.Equal(("M2", MessageAdminOutcome.Done), (Assert.IsType<MessageDeleted>(delete.Event).MessageId, ((MessageAdminAck)delete.Reply!).Outcome));
        Assert.Equal(new object[] { "M2", "deleted from", "example.com" }, delete.Done!.Args);
    }

    [Fact]
    public void A_flush_counts_the_deferred_messages_and_persists_only_when_there_are_some()
    {
        var core = Queued("M1");
        Assert.Equal(QueueDecision.Answer(new QueueFlushAck("example.com", 0)), core.Flush(T0)); // due at arrival: nothing deferred

        core.Committed("M1");
        var start = Assert.Single(core.Next(T0, null).Step.Starts);
        core.Finished(DeliveryScheduler.ConnectionName(start.Connection), new DeliveryFinished("M1", SpoolStatus.Committed, null, new IOException("reset")), T0);
        var batch = core.StartWrite()!;
        foreach (var e in batch.Events)
        {
            core.Apply(e, T0);
        }

        var flush = core.Flush(T0.AddSeconds(1));
        Assert.IsType<QueueFlushed>(flush.Event);
        Assert.Equal(new QueueFlushAck("example.com", 1), flush.Reply);
    }

    [Fact]
    public void A_suspension_change_is_logged_only_when_it_changes_for_this_queue()
    {
        var core = Core();
        var suspension = new DestinationSuspension("example.com", "maintenance", T0, T0.AddHours(1));

        Assert.Same(QueueDecision.None, core.SuspensionChanged(null)); // the node's first read of an empty table
        Assert.Contains("suspended", Assert.Single(core.SuspensionChanged(suspension).Notes).Format, StringComparison.Ordinal);
        Assert.Same(QueueDecision.None, core.SuspensionChanged(suspension));
        Assert.Contains("ended", Assert.Single(core.SuspensionChanged(null).Notes).Format, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hand_off_is_logged_but_a_passivation_is_not()
    {
        var handedOff = Queued("M1").Stopping(T0);
        Assert.Contains("handed off", Assert.Single(handedOff.Notes).Format, StringComparison.Ordinal);

        var empty = Core();
        Assert.Equal(StepKind.Passivate, empty.Next(T0, null).Step.Kind);
        Assert.Same(QueueDecision.None, empty.Stopping(T0));
        Assert.Equal(StepKind.Stop, empty.Next(T0, null).Step.Kind);
    }

    [Fact]
    public void A_snapshot_is_due_at_the_cadence_and_writes_wait_for_it()
    {
        var core = Core(snapshotEvery: 2);
        core.Add(Enqueue("M1"), "s1");
        core.Add(Enqueue("M2"), "s2");
        var batch = core.StartWrite()!; // two Enqueued
        Assert.False(core.Apply(batch.Events[0], T0).Snapshot);
        Assert.True(core.Apply(batch.Events[1], T0).Snapshot);
        _ = core.Written(batch).ToList();

        core.Add(Enqueue("M3"), "s3");
        Assert.Null(core.StartWrite()); // the snapshot holds the next write
        core.SnapshotDone();
        Assert.NotNull(core.StartWrite());
    }

    [Fact]
    public void With_delivery_events_off_no_event_carries_details()
    {
        var core = new DomainQueueCore<string>(
            "example.com", new DomainShaping(2, 100, null, TimeSpan.FromSeconds(5)), new QueueOptions(), Retry, () => 0.5, node: null);
        core.Add(Enqueue("M1"), "s1");
        var batch = core.StartWrite()!;
        Assert.Null(Assert.IsType<Enqueued>(Assert.Single(batch.Events)).Details);
        core.Apply(batch.Events[0], T0);
        _ = core.Written(batch).ToList();
        core.Committed("M1");
        var start = Assert.Single(core.Next(T0, null).Step.Starts);
        core.Finished(DeliveryScheduler.ConnectionName(start.Connection), Delivered("M1"), T0.AddSeconds(1));
        Assert.Null(Assert.IsType<AttemptCompleted>(Assert.Single(core.StartWrite()!.Events)).Details);
    }
}
