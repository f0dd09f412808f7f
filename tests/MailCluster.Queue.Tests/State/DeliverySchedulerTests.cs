using MailCluster.Queue.Delivery;
using MailCluster.Queue.Dsn;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Queue.State;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>The domain queue's scheduling decisions, driven with a fixed clock (every instant is an argument).</summary>
public class DeliverySchedulerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(new RetryOptions { InitialSeconds = 60, MaxSeconds = 600, MaxAgeSeconds = 3600, Jitter = 0 });
    private static readonly QueueOptions Options = new() { MaxConcurrentDeliveriesPerDomain = 10, CommitGraceSeconds = 120 };

    private static DeliveryScheduler Scheduler(int maxConnections = 2, int? ratePerMinute = null) =>
        new(new DomainShaping(maxConnections, 100, ratePerMinute, TimeSpan.FromSeconds(5)), Options, Retry);

    private static DomainQueueState Queue(int messages, DateTimeOffset? arrived = null)
    {
        var state = DomainQueueState.Empty("example.com");
        for (int i = 1; i <= messages; i++)
        {
            state = state.Apply(new Enqueued("example.com", $"M{i}", "s@sender.test", [$"a{i}@example.com", $"b{i}@example.com"], arrived ?? T0));
        }

        return state;
    }

    private static DeliveryResult Delivered(params string[] recipients) =>
        new([.. recipients.Select(r => new RecipientOutcome(r, OutcomeKind.Delivered, 250, "2.0.0", "ok"))], "mx.example.com", null);

    private static DeliveryFinished Ok(string id, params string[] recipients) => new(id, SpoolStatus.Committed, Delivered(recipients), null, Closing: false);

    [Fact]
    public void A_new_message_waits_for_its_commit_nudge_at_most_five_seconds()
    {
        var state = Queue(1);
        var scheduler = Scheduler().Enqueued("M1", T0);

        var (held, step) = scheduler.Next(state, writing: false, T0.AddSeconds(1));
        Assert.Empty(step.Starts);
        Assert.Equal(T0.AddSeconds(5), step.WakeAt);

        (_, step) = held.Committed("M1").Next(state, writing: false, T0.AddSeconds(1));
        var start = Assert.Single(step.Starts);
        Assert.Equal((1, true, "M1"), (start.Connection, start.Opens, start.Message.MessageId));
        Assert.Equal(["a1@example.com", "b1@example.com"], start.Recipients);

        // A lost nudge only delays the first attempt until the hold runs out.
        Assert.Single(held.Next(state, writing: false, T0.AddSeconds(5)).Step.Starts);
    }

    [Fact]
    public void An_uncommitted_body_is_rechecked_during_the_commit_grace_then_abandoned()
    {
        var state = Queue(1);
        var (running, _) = Scheduler().Next(state, false, T0);
        var (held, decision) = running.Finished(state, 1, new DeliveryFinished("M1", SpoolStatus.Uncommitted, null, null, Closing: false), T0.AddSeconds(10));

        Assert.Same(FinishDecision.None, decision);
        Assert.Empty(held.InFlight);
        Assert.Equal(T0.AddSeconds(12), held.Holds["M1"]);
        var (_, step) = held.Next(state, false, T0.AddSeconds(11));
        Assert.Empty(step.Starts);
        Assert.Equal(T0.AddSeconds(12), step.WakeAt);

        // Missing counts the same (acceptance writes the body beside the Enqueued events); past the grace it is given up.
        (running, _) = held.Next(state, false, T0.AddSeconds(120));
        var (_, late) = running.Finished(state, 1, new DeliveryFinished("M1", SpoolStatus.Missing, null, null), T0.AddSeconds(120));
        var abandoned = Assert.IsType<Abandon>(late).Event;
        Assert.Equal(("M1", "spool body missing", T0.AddSeconds(120)), (abandoned.MessageId, abandoned.Reason, abandoned.At));
    }

    [Fact]
    public void The_commit_grace_ends_at_the_read_not_at_the_report()
    {
        // Read inside the grace, reported after it (the queue was busy): the commit may have landed just after the read
        // and been answered 250, so the message is held and read again, never abandoned on a read from before the end.
        var state = Queue(1);
        var (running, _) = Scheduler().Next(state, false, T0);
        var (held, decision) = running.Finished(state, 1,
            new DeliveryFinished("M1", SpoolStatus.Uncommitted, null, null, ReadAt: T0.AddSeconds(119)), T0.AddSeconds(130));

        Assert.Same(FinishDecision.None, decision);
        Assert.True(held.Holds.ContainsKey("M1"));

        // A read that began after the grace and still found no commit gives it up.
        (running, _) = held.Next(state, false, T0.AddSeconds(140));
        var (_, late) = running.Finished(state, 1,
            new DeliveryFinished("M1", SpoolStatus.Uncommitted, null, null, ReadAt: T0.AddSeconds(120)), T0.AddSeconds(140));
        Assert.Equal("never committed", Assert.IsType<Abandon>(late).Event.Reason);
    }

    [Fact]
    public void Connections_never_exceed_the_cap_and_an_idle_one_is_reused()
    {
        var state = Queue(5);
        var (scheduler, step) = Scheduler(maxConnections: 2).Next(state, false, T0);

        Assert.Equal([(1, true, "M1"), (2, true, "M2")], step.Starts.Select(s => (s.Connection, s.Opens, s.Message.MessageId)));
        Assert.Null(step.WakeAt); // every connection is busy: a finished one wakes the queue, not a timer
        Assert.Empty(scheduler.Next(state, false, T0.AddSeconds(1)).Step.Starts);

        var (finished, decision) = scheduler.Finished(state, 2, Ok("M2", "a2@example.com", "b2@example.com"), T0.AddSeconds(1));
        Assert.Equal("M2", Assert.IsType<RecordOutcome>(decision).MessageId);
        Assert.Contains("M2", finished.InFlight); // until its outcome is applied, it is not sent again
        (_, step) = finished.Next(state, false, T0.AddSeconds(1));
        Assert.Equal([(2, false, "M3")], step.Starts.Select(s => (s.Connection, s.Opens, s.Message.MessageId)));

        // A connection that closes after its message frees its place for a new one (numbers are not reused).
        var closing = new DeliveryFinished("M1", SpoolStatus.Committed, Delivered("a1@example.com"), null, Closing: true);
        (finished, _) = finished.Finished(state, 1, closing, T0.AddSeconds(2));
        Assert.Equal([2], finished.Connections.Keys);
        (_, step) = finished.Next(state, false, T0.AddSeconds(2));
        Assert.Equal([(2, false, "M3"), (3, true, "M4")], step.Starts.Select(s => (s.Connection, s.Opens, s.Message.MessageId)));
    }

    [Fact]
    public void A_connection_that_stops_while_delivering_frees_its_message()
    {
        var state = Queue(1);
        var (scheduler, _) = Scheduler().Next(state, false, T0);
        Assert.Contains("M1", scheduler.InFlight);

        scheduler = scheduler.ConnectionStopped(1);

        Assert.Empty(scheduler.InFlight);
        Assert.Empty(scheduler.Connections);
        Assert.Equal("M1", Assert.Single(scheduler.Next(state, false, T0).Step.Starts).Message.MessageId);
    }

    [Fact]
    public void The_rate_per_minute_holds_starts_back_and_wakes_the_queue_when_the_window_allows()
    {
        var state = Queue(5);
        var (scheduler, step) = Scheduler(maxConnections: 10, ratePerMinute: 2).Next(state, false, T0);

        Assert.Equal(2, step.Starts.Count);
        Assert.Equal(T0.AddMinutes(1), step.WakeAt);
        Assert.Empty(scheduler.Next(state, false, T0.AddSeconds(59)).Step.Starts);
        Assert.Equal(2, scheduler.Next(state, false, T0.AddSeconds(60.001)).Step.Starts.Count);
    }

    [Fact]
    public void Every_host_unreachable_backs_the_destination_off_then_one_probe_goes_first()
    {
        var state = Queue(3);
        var (scheduler, _) = Scheduler(maxConnections: 2).Next(state, false, T0);
        var failure = new ConnectFailure(OutcomeKind.Transient, 0, "4.4.1", "connection refused", null, EveryHostUnreachable: true);
        var failed = new DeliveryResult([new("a1@example.com", OutcomeKind.Transient, 0, "4.4.1", "connection refused")], null, null);

        (scheduler, _) = scheduler.Finished(state, 1, new DeliveryFinished("M1", SpoolStatus.Committed, failed, null, failure), T0);
        scheduler = scheduler.Finished(state, 2, new DeliveryFinished("M2", SpoolStatus.Committed, failed, null, failure), T0).Scheduler
            .Settled(["M1", "M2"]);
        Assert.Equal(T0.AddSeconds(120), scheduler.Shaping.BackoffUntil); // second failure: 60 s doubled

        var (waiting, step) = scheduler.Next(state, false, T0.AddSeconds(1));
        Assert.Empty(step.Starts);
        Assert.Equal(T0.AddSeconds(120), step.WakeAt);

        var (probing, probe) = waiting.Next(state, false, T0.AddSeconds(120));
        Assert.Single(probe.Starts);
        Assert.Null(probe.WakeAt); // the probe's outcome wakes the queue

        var (healthy, _) = probing.Finished(state, probe.Starts[0].Connection, Ok(probe.Starts[0].Message.MessageId, "a1@example.com"), T0.AddSeconds(121));
        Assert.False(healthy.Shaping.BackingOff);
        Assert.Equal(2, healthy.Next(state, false, T0.AddSeconds(121)).Step.Starts.Count);
    }

    [Fact]
    public void A_flush_clears_the_holds_and_probes_a_backing_off_destination_now()
    {
        var state = Queue(1);
        var failure = new ConnectFailure(OutcomeKind.Transient, 0, "4.4.1", "refused", null, EveryHostUnreachable: true);
        var failed = new DeliveryResult([new("a1@example.com", OutcomeKind.Transient, 0, "4.4.1", "refused")], null, null);
        var (scheduler, _) = Scheduler().Next(state, false, T0);
        (scheduler, _) = scheduler.Finished(state, 1, new DeliveryFinished("M1", SpoolStatus.Committed, failed, null, failure), T0);
        scheduler = scheduler.Settled(["M1"]).Enqueued("M1", T0);
        Assert.Empty(scheduler.Next(state, false, T0.AddSeconds(1)).Step.Starts);

        var (_, step) = scheduler.Flushed(T0.AddSeconds(1)).Next(state, false, T0.AddSeconds(1));

        Assert.Single(step.Starts);
    }

    [Fact]
    public void A_dsn_that_failed_to_queue_is_retried_after_the_initial_delay()
    {
        var state = Queue(1);
        var attempt = state.Decide("M1", new DeliveryResult(
            [new("a1@example.com", OutcomeKind.Permanent, 550, "5.1.1", "no such user"), new("b1@example.com", OutcomeKind.Delivered, 250, "2.0.0", "ok")],
            "mx", null), T0, Retry, () => 0.5)!;
        state = state.Apply(attempt);

        var (scheduler, step) = Scheduler().Next(state, false, T0);
        Assert.Equal("M1", Assert.Single(step.DsnRuns).MessageId);
        Assert.Empty(scheduler.Next(state, false, T0).Step.DsnRuns); // one run at a time

        (scheduler, var none) = scheduler.DsnRunFinished(state, new DsnFinished("M1", ["a1@example.com"], null, true, "database down"), T0);
        Assert.Null(none);
        (_, step) = scheduler.Next(state, false, T0.AddSeconds(30));
        Assert.Empty(step.DsnRuns);
        Assert.Equal(T0.AddSeconds(60), step.WakeAt);

        (scheduler, step) = scheduler.Next(state, false, T0.AddSeconds(60));
        Assert.Single(step.DsnRuns);
        (_, var queued) = scheduler.DsnRunFinished(state, new DsnFinished("M1", ["a1@example.com"], "D1", false, null), T0.AddSeconds(61));
        Assert.Equal(("M1", "D1"), (queued!.MessageId, queued.DsnMessageId));
    }

    /// <summary>T48 found it (a second DSN to the sender): the group commit's completion runs a step while the
    /// DsnQueued of a finished run is being written, when the state still says the DSN is due. The run counts as
    /// running until its DsnQueued is applied.</summary>
    [Fact]
    public void A_finished_dsn_run_starts_no_second_run_before_its_dsn_queued_is_applied()
    {
        var state = Queue(1);
        state = state.Apply(state.Decide("M1", new DeliveryResult(
            [new("a1@example.com", OutcomeKind.Permanent, 550, "5.1.1", "no such user")], "mx", null), T0, Retry, () => 0.5)!);
        var (scheduler, step) = Scheduler().Next(state, false, T0);
        Assert.Single(step.DsnRuns);

        (scheduler, var queued) = scheduler.DsnRunFinished(state, new DsnFinished("M1", ["a1@example.com"], "D1", false, null), T0);

        Assert.NotNull(queued);
        Assert.Empty(scheduler.Next(state, false, T0.AddSeconds(1)).Step.DsnRuns); // the event is still being written
        state = state.Apply(queued);
        scheduler = scheduler.Applied(queued, T0.AddSeconds(1));
        Assert.Empty(scheduler.DsnRunning);
        Assert.Empty(scheduler.Next(state, false, T0.AddSeconds(2)).Step.DsnRuns);
    }

    /// <summary>The bug of issue 13: a run that threw bypassed the state, so no attempt was counted and the message
    /// never expired. It is now a transient attempt of the recipients sent, and expires at the maximum age.</summary>
    [Fact]
    public void A_delivery_run_that_throws_counts_as_a_transient_attempt_and_expires_at_max_age()
    {
        var state = Queue(1);
        var scheduler = Scheduler();
        var now = T0;
        var kinds = new List<RecipientResultKind>();
        for (int runs = 1; runs < 100 && state.Messages.ContainsKey("M1") && !state.Messages["M1"].Pending.IsEmpty; runs++)
        {
            (scheduler, var step) = scheduler.Next(state, false, now);
            var start = Assert.Single(step.Starts);
            var thrown = new DeliveryFinished("M1", SpoolStatus.Committed, null, new InvalidOperationException("route table broken"), Closing: true);
            (scheduler, var decision) = scheduler.Finished(state, start.Connection, thrown, now);

            var outcome = Assert.IsType<RecordOutcome>(decision);
            Assert.All(outcome.Result.Outcomes, o => Assert.Equal((OutcomeKind.Transient, 451, "4.3.0"), (o.Kind, o.Code, o.EnhancedCode)));
            Assert.Equal(start.Recipients, outcome.Result.Outcomes.Select(o => o.Recipient));
            Assert.Contains("route table broken", outcome.Result.Outcomes[0].Text, StringComparison.Ordinal);

            var (events, nothing) = state.DecideBatch([], [(outcome.MessageId, outcome.Result, now)], Retry, () => 0.5);
            Assert.Empty(nothing);
            var attempt = (AttemptCompleted)Assert.Single(events);
            kinds.Add(attempt.Results[0].Kind);
            state = state.Apply(attempt);
            scheduler = scheduler.Applied(attempt, now);
            Assert.Empty(scheduler.InFlight);
            if (state.Messages.TryGetValue("M1", out var message) && !message.Pending.IsEmpty)
            {
                Assert.Equal(runs, message.Pending[0].Attempts);
                now = scheduler.Next(state, false, now).Step.WakeAt!.Value;
            }
        }

        // Runs at 0, 60, 180, 420, 900, 1500, 2100, 2700, 3300 s (60 s doubling to the 600 s cap) are deferred; the one
        // at 3600 s, the maximum age, expires, and the sender gets the bounce.
        Assert.Equal(T0.AddSeconds(3600), now);
        Assert.Equal([.. Enumerable.Repeat(RecipientResultKind.Deferred, 9), RecipientResultKind.Expired], kinds);
        var report = Assert.Single(state.ReportsDue);
        Assert.All(report.Reports, r => Assert.Equal(("failed", "4.3.0"), (r.Action, r.Status))); // the bounce to the sender
    }

    [Fact]
    public void An_empty_quiet_queue_passivates_once_and_mail_that_arrives_meanwhile_wakes_it_on_stop()
    {
        var empty = DomainQueueState.Empty("example.com");
        var (writing, step) = Scheduler().Next(empty, writing: true, T0);
        Assert.Equal(StepKind.Run, step.Kind); // an Enqueue is being written: not empty for long

        var (passivating, passivate) = writing.Next(empty, writing: false, T0);
        Assert.Equal(StepKind.Passivate, passivate.Kind);
        Assert.Equal(StepKind.Idle, passivating.Next(empty, false, T0).Step.Kind);

        var stopping = passivating.Stopping(T0);
        Assert.Equal((StepKind.Stop, false), (stopping.Next(empty, false, T0).Step.Kind, stopping.Next(empty, false, T0).Step.WakeUp));
        var (_, stop) = stopping.Next(Queue(1), false, T0);
        Assert.Equal((StepKind.Stop, true), (stop.Kind, stop.WakeUp));
    }

    /// <summary>A queue that delivers as fast as mail arrives runs empty between messages: it keeps its warm connection
    /// (and stays up) until that connection closes or the destination's idle timeout (5 s here) has passed.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_empty_queue_with_an_idle_connection_passivates_when_it_closes_or_after_the_idle_timeout(bool connectionCloses)
    {
        var state = Queue(1);
        var (running, step) = Scheduler().Next(state, false, T0);
        var start = Assert.Single(step.Starts);
        (running, var decision) = running.Finished(state, start.Connection, Ok("M1", "a1@example.com", "b1@example.com"), T0.AddSeconds(1));
        var outcome = Assert.IsType<RecordOutcome>(decision);
        var (events, _) = state.DecideBatch([], [(outcome.MessageId, outcome.Result, T0.AddSeconds(1))], Retry, () => 0.5);
        state = state.Apply(Assert.Single(events));
        running = running.Applied(events[0], T0.AddSeconds(1));
        Assert.True(state.IsEmpty);
        Assert.Equal([start.Connection], running.Connections.Keys);

        var (empty, wait) = running.Next(state, false, T0.AddSeconds(1));
        Assert.Equal((StepKind.Run, T0.AddSeconds(6)), (wait.Kind, wait.WakeAt));
        Assert.Empty(wait.Starts);
        (empty, wait) = empty.Next(state, false, T0.AddSeconds(3)); // steps in between keep the first empty moment
        Assert.Equal((StepKind.Run, T0.AddSeconds(6)), (wait.Kind, wait.WakeAt));

        var (passivating, passivate) = connectionCloses
            ? empty.ConnectionStopped(start.Connection).Next(state, false, T0.AddSeconds(4))
            : empty.Next(state, false, T0.AddSeconds(6));
        Assert.Equal(StepKind.Passivate, passivate.Kind);
        Assert.Equal(StepKind.Idle, passivating.Next(state, false, T0.AddSeconds(7)).Step.Kind);
    }

    /// <summary>Mail arriving while the queue waits empty goes out on the warm connection, and the wait starts afresh
    /// when the queue runs empty again.</summary>
    [Fact]
    public void Mail_arriving_while_the_queue_waits_empty_uses_the_warm_connection_and_restarts_the_wait()
    {
        var empty = DomainQueueState.Empty("example.com");
        var state = Queue(1);
        var (running, step) = Scheduler().Next(state, false, T0);
        var first = Assert.Single(step.Starts);
        (running, _) = running.Finished(state, first.Connection, Ok("M1", "a1@example.com", "b1@example.com"), T0);
        running = running.Settled(["M1"]);
        (running, _) = running.Next(empty, false, T0);
        Assert.Equal(T0, running.EmptySince);

        var more = empty.Apply(new Enqueued("example.com", "M2", "s@sender.test", ["c@example.com"], T0.AddSeconds(4)));
        (running, step) = running.Next(more, false, T0.AddSeconds(4));
        var second = Assert.Single(step.Starts);
        Assert.Equal((first.Connection, false), (second.Connection, second.Opens));
        Assert.Null(running.EmptySince);

        (running, _) = running.Finished(more, second.Connection, Ok("M2", "c@example.com"), T0.AddSeconds(5));
        var (_, wait) = running.Settled(["M2"]).Next(empty, false, T0.AddSeconds(5));
        Assert.Equal((StepKind.Run, T0.AddSeconds(10)), (wait.Kind, wait.WakeAt));
    }

    [Fact]
    public void A_stopping_queue_starts_nothing_waits_for_writes_always_and_for_deliveries_at_most_the_grace()
    {
        var state = Queue(3);
        var (running, _) = Scheduler().Next(state, false, T0);
        var stopping = running.Stopping(T0);

        var (_, step) = stopping.Next(state, writing: false, T0.AddSeconds(1));
        Assert.Equal(StepKind.Run, step.Kind);
        Assert.Empty(step.Starts);
        Assert.Equal(T0 + DeliveryScheduler.StopGrace, step.WakeAt);

        Assert.Equal(StepKind.Stop, stopping.Next(state, writing: false, T0 + DeliveryScheduler.StopGrace).Step.Kind);
        Assert.Equal(StepKind.Run, stopping.Next(state, writing: true, T0.AddMinutes(5)).Step.Kind); // a write is never cut off

        var quiet = stopping.ConnectionStopped(1).ConnectionStopped(2);
        Assert.Equal(StepKind.Stop, quiet.Next(state, writing: false, T0.AddSeconds(1)).Step.Kind);
        Assert.Equal(StepKind.Stop, quiet.Stopping(T0.AddSeconds(5)).Next(state, false, T0.AddSeconds(1)).Step.Kind);
    }

    [Fact]
    public void Applied_events_reset_what_they_make_moot()
    {
        var state = Queue(2);
        var scheduler = Scheduler().Enqueued("M1", T0).Enqueued("M2", T0);
        var (dsn, _) = scheduler.DsnRunFinished(state, new DsnFinished("M2", [], null, true, "down"), T0);

        Assert.Equal(["M1"], dsn.Applied(new MessageDeleted("M2", T0), T0).Holds.Keys);
        Assert.Empty(dsn.Applied(new MessageDeleted("M2", T0), T0).DsnHolds);
        Assert.Equal(["M1"], scheduler.Applied(new AttemptCompleted("M2", T0, [], null, null), T0).Holds.Keys);
        Assert.False(scheduler.Busy("M1"));
    }

    [Fact]
    public void Steps_and_reports_that_change_nothing_return_the_same_scheduler()
    {
        // Steps run several times per message in every queue: one that starts nothing must not copy the record.
        var state = Queue(2);
        var (running, step) = Scheduler(maxConnections: 2).Next(state, false, T0);
        Assert.Equal(2, step.Starts.Count);

        var (again, nothing) = running.Next(state, false, T0.AddSeconds(1));
        Assert.Same(running, again);
        Assert.Empty(nothing.Starts);
        Assert.Empty(nothing.DsnRuns);
        Assert.Same(running, running.Committed("M1")); // no commit hold left for it
        Assert.Same(running, running.Settled(["M9"]));
        Assert.Same(running, running.Applied(new AttemptCompleted("M9", T0, [], null, null), T0));

        // A recorded outcome keeps its message in flight until it is settled; a finished run frees its connection.
        var (finished, decision) = running.Finished(state, 1, Ok("M1", "a1@example.com", "b1@example.com"), T0);
        Assert.IsType<RecordOutcome>(decision);
        Assert.True(finished.Busy("M1"));
        Assert.Null(finished.Connections[1]);
        Assert.False(finished.Settled(["M1"]).Busy("M1"));
    }
}
