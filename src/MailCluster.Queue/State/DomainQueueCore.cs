using MailCluster.Queue.Delivery;
using MailCluster.Queue.Dsn;
using MailCluster.Queue.Events;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.State;

/// <summary>
/// Everything one domain queue decides, in one object without I/O that <see cref="DomainQueueActor"/> carries out: the
/// persisted record (<see cref="DomainQueueState"/>), the volatile one (<see cref="DeliveryScheduler"/>), the group
/// commit (<see cref="GroupCommit{TReply}"/>), the snapshot cadence and the one timer. The clock is an argument, so
/// tests drive it with fixed instants. A command becomes a <see cref="QueueDecision"/> (an event to persist, an answer,
/// log lines); after each, <see cref="Next"/> says what starts and what the timer does.
/// <para>Mutable inside, immutable outside: the three records are replaced by their next values, but this object is
/// one per queue and not copied per message (it runs several times per message on the hot path).</para>
/// </summary>
/// <typeparam name="TReply">Where an Enqueue's acknowledgement goes (the session's actor).</typeparam>
internal sealed partial class DomainQueueCore<TReply>
{
    private readonly RetryPolicy _retry;
    private readonly Func<double> _random;
    private readonly string? _node;
    private int _eventsSinceSnapshot;

    /// <summary>When the timer is set to fire (null: not set). A step that asks for the same instant leaves the timer
    /// alone instead of rescheduling it: steps run several times per message.</summary>
    private DateTimeOffset? _tickAt;

    /// <param name="entityId">The queue's key: a domain, or a bucket "domain#k" of a split one (it acts for the domain).</param>
    /// <param name="node">This node as the delivery events name it; null when the delivery events are off: then no
    /// event carries details (<see cref="EventAnnotation"/>).</param>
    public DomainQueueCore(string entityId, DomainShaping limits, QueueOptions options, RetryPolicy retry, Func<double> random, string? node)
    {
        ArgumentNullException.ThrowIfNull(options);
        Key = QueueKey.Parse(entityId);
        State = DomainQueueState.Empty(entityId);
        Scheduler = new DeliveryScheduler(limits, options, retry);
        (Options, _retry, _random, _node) = (options, retry, random, node);
    }

    public QueueKey Key { get; }

    public QueueOptions Options { get; }

    public DomainQueueState State { get; private set; }

    public DeliveryScheduler Scheduler { get; private set; }

    public GroupCommit<TReply> Writes { get; private set; } = GroupCommit<TReply>.Empty;

    /// <summary>A snapshot is being saved (and older ones deleted): the next write waits (see <see cref="GroupCommit{TReply}"/>).</summary>
    public bool Snapshotting { get; private set; }

    /// <summary>Recovery: the snapshot offered. Replayed events count towards the next snapshot, so restarts cannot let
    /// the replay grow without bound.</summary>
    public void Recover(DomainQueueSnapshot snapshot) => (State, _eventsSinceSnapshot) = (DomainQueueState.FromSnapshot(snapshot), 0);

    public void Replay(IQueueMessage e) => (State, _eventsSinceSnapshot) = (State.Apply(e), _eventsSinceSnapshot + 1);

    /// <summary>Recovery is over: the line to log, and whether there is anything to schedule (null: an empty queue).</summary>
    public LogNote? Recovered() => State.IsEmpty ? null : DomainQueueLog.Recovered(State);

    /// <summary>
    /// Recovery found the queue empty: the timer for a look after the destination's idle timeout, when it passivates
    /// if nothing came. Not at once: a queue is usually started by a command waiting for the recovery (the first
    /// message to the domain), and a Passivate sent before it would stop and restart the queue for it. Not never
    /// either: a queue handed off while it waited empty for its idle connections (<see cref="DeliveryScheduler.Next"/>)
    /// is started again by its new shard (remember-entities) with nothing to do, and would otherwise stay up for good.
    /// </summary>
    public TimerChange RecoveredEmpty(DateTimeOffset now) => SetTimer(now + Scheduler.Limits.IdleTimeout, now);

    public void Add(Enqueue command, TReply replyTo) => Writes = Writes.Add(command, replyTo);

    /// <summary>Starts the next journal write (null: one is in flight, a snapshot is being saved, or nothing waits): its
    /// events carry the details of the receptions and attempts they record (<see cref="EventAnnotation"/>, issue 16),
    /// in the same atomic write. Outcomes with nothing to record are settled at once.</summary>
    public GroupCommit<TReply>.Batch? StartWrite()
    {
        var outcomes = Writes.Outcomes;
        (Writes, var batch) = Writes.Start(State, Snapshotting, _retry, _random);
        if (batch is null)
        {
            return null;
        }

        Scheduler = Scheduler.Settled(batch.NothingToRecord);
        return _node is null ? batch : batch with { Events = EventAnnotation.Annotate(batch.Events, batch.Acknowledge, outcomes, _node) };
    }

    /// <summary>The write of <paramref name="batch"/> is done (its events applied): the acknowledgements to send.</summary>
    public IEnumerable<(TReply ReplyTo, EnqueueAck Ack)> Written(GroupCommit<TReply>.Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Writes = Writes.Written();
        return batch.Acknowledge.Select(a => (a.ReplyTo, new EnqueueAck(a.Command.Queue.EntityId, a.Command.MessageId)));
    }

    /// <summary>Applies a persisted event to both records; snapshots at the state's cadence, one at a time.</summary>
    public AppliedEvent Apply(IQueueMessage e, DateTimeOffset now)
    {
        // Before Apply: a message whose last recipient is done leaves the state, and the attempt counts change.
        var before = e is AttemptCompleted attempt ? State.Messages.GetValueOrDefault(attempt.MessageId) : null;
        State = State.Apply(e);
        Scheduler = Scheduler.Applied(e, now);
        var release = DomainQueueState.MessageOf(e) is { } id && !State.Messages.ContainsKey(id) ? id : null;
        bool snapshot = State.SnapshotDue(++_eventsSinceSnapshot, Options.SnapshotEvery) && !Snapshotting;
        if (snapshot)
        {
            (_eventsSinceSnapshot, Snapshotting) = (0, true);
        }

        return new AppliedEvent(before, release, snapshot);
    }

    /// <summary>The snapshot was saved and older ones deleted, or that failed, or it timed out: writes go on.</summary>
    public void SnapshotDone() => Snapshotting = false;

    /// <summary>The scheduler's next step (<see cref="DeliveryScheduler.Next"/>), and what it means for the timer.</summary>
    public (SchedulerStep Step, TimerChange Timer) Next(DateTimeOffset now, DateTimeOffset? suspendedUntil)
    {
        (Scheduler, var step) = Scheduler.Next(State, Writes.Pending, now, suspendedUntil);
        var timer = step.Kind switch
        {
            // On passivation the snapshot timeout stays: a snapshot in progress must not hold writes for ever.
            StepKind.Passivate => CancelTimer(),
            StepKind.Run when step.WakeAt is not { } => CancelTimer(),
            StepKind.Run when step.WakeAt is { } at && at != _tickAt => SetTimer(at, now),
            _ => default,
        };
        return (step, timer);
    }

    /// <summary>The timer fired.</summary>
    public QueueDecision Ticked()
    {
        _tickAt = null;
        return QueueDecision.None;
    }

    public QueueDecision Committed(string messageId)
    {
        Scheduler = Scheduler.Committed(messageId);
        return QueueDecision.None;
    }

    /// <summary>A connection actor named <paramref name="name"/> stopped.</summary>
    public QueueDecision ConnectionStopped(string name)
    {
        Scheduler = Scheduler.ConnectionStopped(DeliveryScheduler.ConnectionNumber(name));
        return QueueDecision.None;
    }

    /// <summary>A delivery run reported from the connection actor named <paramref name="connection"/>
    /// (<see cref="DeliveryScheduler.Finished"/>): an outcome goes into the next group commit, an abandonment is
    /// persisted on its own.</summary>
    public QueueDecision Finished(string connection, DeliveryFinished finished, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(finished);
        (Scheduler, var decision) = Scheduler.Finished(State, DeliveryScheduler.ConnectionNumber(connection), finished, now);
        List<LogNote>? notes = null;
        if (finished.ConnectFailure is { EveryHostUnreachable: true } failure)
        {
            (notes ??= []).Add(DomainQueueLog.BackingOff(State.Domain, Scheduler.Shaping.BackoffUntil, failure.Text));
        }

        if (finished.Error is { } error)
        {
            (notes ??= []).Add(DomainQueueLog.RunFailed(error, finished.MessageId, State.Domain));
        }

        var next = decision switch
        {
            RecordOutcome outcome => Buffer(outcome, now),
            Abandon abandon => new QueueDecision(abandon.Event, Done: DomainQueueLog.Abandoned(abandon.Event, State.Domain)),
            _ => QueueDecision.None,
        };
        return notes is null ? next : next with { Notes = notes };
    }

    /// <summary>A DSN run reported (<see cref="DeliveryScheduler.DsnRunFinished"/>).</summary>
    public QueueDecision DsnFinished(DsnFinished finished, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(finished);
        (Scheduler, var decided) = Scheduler.DsnRunFinished(State, finished, now);
        var next = decided is null ? QueueDecision.None : new QueueDecision(decided, Done: DomainQueueLog.DsnQueued(decided, finished.Error));
        return finished.Retry ? next with { Notes = [DomainQueueLog.DsnRetry(finished.MessageId, finished.Error)] } : next;
    }

    /// <summary>The shard's stop (passivation or hand-off; see <see cref="DeliveryScheduler.Next"/>). A hand-off is logged.</summary>
    public QueueDecision Stopping(DateTimeOffset now)
    {
        var note = Scheduler.Passivating ? null : DomainQueueLog.HandedOff(State.Domain, Writes.Pending, Scheduler.InFlight.Count);
        Scheduler = Scheduler.Stopping(now);
        return note is null ? QueueDecision.None : new QueueDecision { Notes = [note] };
    }

    private QueueDecision Buffer(RecordOutcome outcome, DateTimeOffset now)
    {
        Writes = Writes.Add(outcome.MessageId, outcome.Result, now);
        return QueueDecision.WriteOnly;
    }

    private TimerChange CancelTimer()
    {
        if (_tickAt is null)
        {
            return default;
        }

        _tickAt = null;
        return new TimerChange(true, null);
    }

    private TimerChange SetTimer(DateTimeOffset at, DateTimeOffset now)
    {
        _tickAt = at;
        return new TimerChange(false, at > now ? at - now : TimeSpan.Zero);
    }
}
