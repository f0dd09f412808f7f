using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using MailCluster.Queue.Dsn;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;
using MailCluster.Queue.Views;

namespace MailCluster.Queue;

/// <summary>
/// The persistent, sharded queue of one recipient domain: a thin shell over <see cref="DomainQueueCore{TReply}"/>,
/// which decides everything (what to persist, answer and log, what to start, when to wake) from the pure
/// <see cref="DomainQueueState"/> and <see cref="DeliveryScheduler"/>. This actor only persists (group commit, or one
/// decided event), replies, starts the outbound connection children and DSN runs a step asks for, sets its one timer,
/// snapshots, and passivates or stops when the scheduler says so.
/// </summary>
public sealed class DomainQueueActor : ReceivePersistentActor, IWithTimers
{
    private const string TickTimer = "tick";
    private const string SnapshotTimer = "snapshot";

    private readonly QueueServices _services;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly DomainQueueCore<IActorRef> _core;
    private IDisposable? _suspensionWatch;

    public DomainQueueActor(string domain, QueueServices services)
    {
        _services = services;
        var destination = QueueKey.Parse(domain).Domain;
        var shaping = services.Connector.ShapingFor(destination).ForBuckets(services.Buckets.CountOf(destination));
        _core = new(domain, shaping, services.Options, services.Retry, Random.Shared.NextDouble,
            services.RecordsEventDetails ? DeliveryQueueHosting.NodeName(Context.System) : null);
        PersistenceId = _core.Key.PersistenceId;
        services.Metrics.Ages.Track(Self, () => _core.State); // mailcluster_queue_oldest_message_age_seconds (k8s issue 15)

        Recover<SnapshotOffer>(offer => _core.Recover((DomainQueueSnapshot)offer.Snapshot));
        Recover<IQueueMessage>(_core.Replay);

        Command<Enqueue>(e =>
        {
            _core.Add(e, Sender);
            FlushWrites();
        });
        Command<MessageCommitted>(c => Carry(_core.Committed(c.MessageId)));
        Command<Tick>(_ => Carry(_core.Ticked()));
        Command<WakeUp>(_ => AfterChange());
        Command<DeliveryFinished>(f => Carry(_core.Finished(Sender.Path.Name, f, Now)));
        Command<DsnFinished>(f => Carry(_core.DsnFinished(f, Now)));
        Command<Terminated>(t => Carry(_core.ConnectionStopped(t.ActorRef.Path.Name)));
        Command<GetQueueStatus>(_ => Sender.Tell(_core.Status(_services.Suspensions.For(_core.Key.Domain, Now))));
        Command<ListMessages>(l => Carry(_core.List(l.Offset, l.Limit, Now)));
        Command<FindHeldMessages>(f => Carry(_core.FindHeld(f.MessageIds)));
        Command<GetQueueSummary>(_ => Carry(_core.Summary(Now, _services.Suspensions.For(_core.Key.Domain, Now))));
        Command<InspectMessage>(i => Carry(_core.Inspect(i.MessageId, Now)));
        Command<FlushMessages>(_ => Carry(_core.Flush(Now)));
        Command<HoldMessage>(h => Carry(_core.Hold(h.MessageId, Now)));
        Command<ReleaseMessage>(r => Carry(_core.Release(r.MessageId, Now)));
        Command<DeleteMessage>(d => Carry(_core.Delete(d.MessageId, Now)));
        Command<BounceMessage>(b => Carry(_core.Bounce(b.MessageId, Now)));
        Command<SuspensionChanged>(_ => Carry(_core.SuspensionChanged(_services.Suspensions.For(_core.Key.Domain, Now))));
        Command<StopQueue>(_ => Carry(_core.Stopping(Now)));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => SnapshotDone(f.Cause));
        Command<DeleteSnapshotsSuccess>(_ => SnapshotDone(null));
        Command<DeleteSnapshotsFailure>(f => SnapshotDone(f.Cause));
        Command<SnapshotTimeout>(_ => SnapshotDone(null));
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    private DateTimeOffset Now => _services.Clock.GetUtcNow();

    public static Props Props(string domain, QueueServices services) =>
        Akka.Actor.Props.Create(() => new DomainQueueActor(domain, services));

    protected override void PreStart()
    {
        base.PreStart();

        // A suspension of the domain lifted or changed on any node wakes the queue (its step asks the set again).
        var self = Self;
        _suspensionWatch = _services.Suspensions.Watch(_core.Key.Domain, () => self.Tell(SuspensionChanged.Instance));
    }

    protected override void PostStop()
    {
        _suspensionWatch?.Dispose();
        base.PostStop();
    }

    /// <summary>A journal rejected an event (one it could not serialize) instead of failing the write. Akka keeps a
    /// persistent actor running after a rejection and would still run the group commit's deferred handler, which
    /// acknowledges its Enqueue commands: a 250 for a message whose event was never stored. Stop instead, as after a
    /// failed write: nothing of that commit is acknowledged (the sessions answer 451 at their timeout), and the entity
    /// restarts the queue from what the journal holds.</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistRejected(cause, @event, sequenceNr);
        Context.Stop(Self);
    }

    protected override void OnReplaySuccess()
    {
        if (_core.Recovered() is { } note)
        {
            _log.Write(note);
            AfterChange();
        }
        else
        {
            SetTimer(_core.RecoveredEmpty(Now));
        }
    }

    /// <summary>Carries out one decision (<see cref="QueueDecision"/>): its event persisted and applied first, if any.</summary>
    private void Carry(QueueDecision decision)
    {
        _log.Write(decision.Notes);
        var replyTo = Sender;
        if (decision.Event is null)
        {
            Then(decision, replyTo);
            return;
        }

        Persist(decision.Event, e =>
        {
            Applied(e);
            Then(decision, replyTo);
        });
    }

    /// <summary>The rest of a decision: the answer, the log line, the next group commit, then the next step.</summary>
    private void Then(QueueDecision decision, IActorRef replyTo)
    {
        if (decision.Reply is { } reply)
        {
            replyTo.Tell(reply);
        }

        _log.Write(decision.Done);
        if (decision.Write)
        {
            FlushWrites();
        }

        AfterChange();
    }

    /// <summary>Starts the next group commit, if any (<see cref="DomainQueueCore{TReply}.StartWrite"/>); once it is
    /// written its Enqueue commands are acknowledged and the next one starts.</summary>
    private void FlushWrites()
    {
        if (_core.StartWrite() is { } batch)
        {
            PersistAllAsync(batch.Events, Applied); // the write's completion runs AfterChange once for the batch
            DeferAsync(batch, done =>
            {
                foreach (var (replyTo, ack) in _core.Written(done))
                {
                    replyTo.Tell(ack);
                }

                AfterChange();
                FlushWrites();
            });
        }
    }

    /// <summary>Applies a persisted event. The body of a message the queue no longer holds is released without waiting
    /// (a failed release is retried by the node's <see cref="Spool.SpoolReleaser"/>).</summary>
    private void Applied(IQueueMessage e)
    {
        var applied = _core.Apply(e, Now);
        if (e is AttemptCompleted attempt)
        {
            DeliveryLog.Attempt(_services.MailLog, attempt, applied.Before, _services.Classification);
        }

        if (applied.Release is { } messageId)
        {
            _ = _services.Releaser.Release(messageId, _core.Key.Domain, _log);
        }

        if (applied.Snapshot)
        {
            SaveSnapshot(_core.State.ToSnapshot());

            // Liveness: a snapshot store that never answers must not hold the queue's writes for ever.
            Timers.StartSingleTimer(SnapshotTimer, new SnapshotTimeout(), TimeSpan.FromSeconds(5));
        }
    }

    private void SnapshotDone(Exception? failure)
    {
        if (failure is not null)
        {
            _log.Warning(failure, "Saving a snapshot of {0}, or deleting older ones, failed", PersistenceId);
        }

        Timers.Cancel(SnapshotTimer);
        _core.SnapshotDone();
        FlushWrites();
    }

    /// <summary>Carries out the scheduler's next step (<see cref="DeliveryScheduler.Next"/>).</summary>
    private void AfterChange()
    {
        var now = Now;
        var (step, timer) = _core.Next(now, _services.Suspensions.UntilFor(_core.Key.Domain, now));
        SetTimer(timer);
        switch (step.Kind)
        {
            case StepKind.Passivate:
                Context.Parent.Tell(new Passivate(StopQueue.Instance));
                break;
            case StepKind.Stop:
                if (step.WakeUp)
                {
                    _services.DomainQueues().Tell(new WakeUp(_core.State.Domain), ActorRefs.NoSender);
                }

                Context.Stop(Self);
                break;
            case StepKind.Run:
                foreach (var start in step.Starts)
                {
                    var name = DeliveryScheduler.ConnectionName(start.Connection);
                    var connection = start.Opens
                        ? Context.Watch(Context.ActorOf(OutboundConnectionActor.Props(_services, _core.Key.Domain, _core.Scheduler.Limits), name))
                        : Context.Child(name);
                    connection.Tell(new SendMessage(start.Message, start.Recipients));
                }

                foreach (var message in step.DsnRuns)
                {
                    DsnRun.Start(_services, message).PipeTo(Self);
                }

                break;
        }
    }

    private void SetTimer(TimerChange timer)
    {
        if (timer.Cancel)
        {
            Timers.Cancel(TickTimer);
        }
        else if (timer.Set is { } delay)
        {
            Timers.StartSingleTimer(TickTimer, Tick.Instance, delay);
        }
    }

    private sealed class Tick { public static readonly Tick Instance = new(); }
    private sealed record SnapshotTimeout;
    private sealed class SuspensionChanged { public static readonly SuspensionChanged Instance = new(); }

    /// <summary>The shard's stop message for a passivating queue and for a shard hand-off (local only; see
    /// <see cref="DomainQueueEntity.StopMessage"/> and <see cref="DeliveryScheduler.Next"/>).</summary>
    internal sealed class StopQueue { public static readonly StopQueue Instance = new(); }
}
