using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using MailCluster.Queue.Dsn;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;

namespace MailCluster.Queue;

/// <summary>
/// The persistent, sharded queue of one recipient domain: a thin shell over two pure records,
/// <see cref="DomainQueueState"/> (what is persisted) and <see cref="DeliveryScheduler"/> (what is decided from it, the
/// shaping and the clock). It persists their decisions (group commit, DomainQueueActor.Writes.cs), replies, starts the
/// outbound connection children and DSN runs a step asks for, sets its one timer to the step's wake-up, snapshots, and
/// passivates or stops when the scheduler says so.
/// </summary>
public sealed partial class DomainQueueActor : ReceivePersistentActor, IWithTimers
{
    private const string TickTimer = "tick";
    private const string SnapshotTimer = "snapshot";
    private const string ConnectionPrefix = "connection-";

    private readonly QueueServices _services;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly QueueKey _key;
    private DomainQueueState _state;
    private DeliveryScheduler _scheduler;
    private IDisposable? _suspensionWatch;
    private Suspensions.DestinationSuspension? _suspension;

    /// <summary>When the tick timer is set to fire (null: not set). A step that asks for the same instant leaves the
    /// timer alone instead of rescheduling it: steps run several times per message.</summary>
    private DateTimeOffset? _tickAt;

    public DomainQueueActor(string domain, QueueServices services)
    {
        _services = services;
        _state = DomainQueueState.Empty(domain);
        // The entity id is the queue's key (a domain, or a bucket "domain#k" of a split one); it acts for key.Domain.
        _key = QueueKey.Parse(domain);
        _scheduler = new DeliveryScheduler(services.Connector.ShapingFor(_key.Domain), services.Options, services.Retry);
        PersistenceId = _key.PersistenceId;
        services.Metrics.Ages.Track(Self, () => _state); // mailcluster_queue_oldest_message_age_seconds (k8s issue 15)

        // Replayed events count towards the next snapshot, so restarts cannot let the replay grow without bound.
        Recover<SnapshotOffer>(offer => (_state, _eventsSinceSnapshot) = (DomainQueueState.FromSnapshot((DomainQueueSnapshot)offer.Snapshot), 0));
        Recover<IQueueMessage>(e => (_state, _eventsSinceSnapshot) = (_state.Apply(e), _eventsSinceSnapshot + 1));

        Command<Enqueue>(e =>
        {
            _writes = _writes.Add(e, Sender);
            FlushWrites();
        });
        Command<MessageCommitted>(c => Change(_scheduler.Committed(c.MessageId)));
        Command<Tick>(_ =>
        {
            _tickAt = null;
            AfterChange();
        });
        Command<WakeUp>(_ => AfterChange());
        Command<DeliveryFinished>(OnDeliveryFinished);
        Command<DsnFinished>(OnDsnFinished);
        Command<Terminated>(t => Change(_scheduler.ConnectionStopped(ConnectionNumber(t.ActorRef))));
        Command<GetQueueStatus>(_ => Sender.Tell(Status()));
        Command<ListMessages>(l => Answer(_state.List(Math.Max(0, l.Offset), Math.Clamp(l.Limit, 1, MaxListLimit), _scheduler.InFlight, Now, ListingByteBudget)));
        Command<FindHeldMessages>(f => Answer(new HeldMessages(_state.Domain, _writes.Holding(_state, f.MessageIds))));
        Command<FlushMessages>(OnFlush);
        Command<HoldMessage>(h => OnHold(h.MessageId));
        Command<ReleaseMessage>(r => OnRelease(r.MessageId));
        Command<SuspensionChanged>(_ =>
        {
            // Logged when it changes for this queue (not for every queue at a node's first read of an empty table).
            var suspension = _services.Suspensions.For(_key.Domain, Now);
            if (suspension != _suspension)
            {
                _log.SuspensionChanged(_key.EntityId, suspension);
                _suspension = suspension;
            }

            AfterChange();
        });
        ReceiveQueries(); // DomainQueueActor.Queries.cs: the cluster-wide view's questions
        Command<DeleteMessage>(d => OnAdmin(d.MessageId, () => _state.DecideDelete(d.MessageId, Now), "deleted from"));

        // The same event as a delivery attempt with permanent failures: the DSN goes out through the state's reports.
        Command<BounceMessage>(b => OnAdmin(b.MessageId, () => _state.DecideBounce(b.MessageId, Now, _services.Retry), "bounced in"));
        Command<StopQueue>(_ =>
        {
            if (!_scheduler.Passivating)
            {
                _log.HandedOff(_state.Domain, _writes.Pending, _scheduler.InFlight.Count);
            }

            Change(_scheduler.Stopping(Now));
        });
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
        _suspensionWatch = _services.Suspensions.Watch(_key.Domain, () => self.Tell(SuspensionChanged.Instance));
    }

    protected override void PostStop()
    {
        _suspensionWatch?.Dispose();
        base.PostStop();
    }

    protected override void OnReplaySuccess()
    {
        if (!_state.IsEmpty)
        {
            _log.Recovered(_state);
            AfterChange();
        }
    }

    private void Change(DeliveryScheduler scheduler)
    {
        _scheduler = scheduler;
        AfterChange();
    }

    /// <summary>Carries out the scheduler's next step (<see cref="DeliveryScheduler.Next"/>).</summary>
    private void AfterChange()
    {
        var now = Now;
        (_scheduler, var step) = _scheduler.Next(_state, _writes.Pending, now, _services.Suspensions.UntilFor(_key.Domain, now));
        switch (step.Kind)
        {
            case StepKind.Passivate:
                CancelTick(); // the snapshot timeout stays: a snapshot in progress must not hold writes for ever
                Context.Parent.Tell(new Passivate(StopQueue.Instance));
                break;
            case StepKind.Stop:
                if (step.WakeUp)
                {
                    _services.DomainQueues().Tell(new WakeUp(_state.Domain), ActorRefs.NoSender);
                }

                Context.Stop(Self);
                break;
            case StepKind.Run:
                foreach (var start in step.Starts)
                {
                    var name = ConnectionPrefix + start.Connection;
                    var connection = start.Opens
                        ? Context.Watch(Context.ActorOf(OutboundConnectionActor.Props(_services, _key.Domain, _scheduler.Limits), name))
                        : Context.Child(name);
                    connection.Tell(new SendMessage(start.Message, start.Recipients));
                }

                foreach (var message in step.DsnRuns)
                {
                    DsnRun.Start(_services, message).PipeTo(Self);
                }

                if (step.WakeAt is not { } at)
                {
                    CancelTick();
                }
                else if (_tickAt != at)
                {
                    Timers.StartSingleTimer(TickTimer, Tick.Instance, at > now ? at - now : TimeSpan.Zero);
                    _tickAt = at;
                }

                break;
        }
    }

    private void OnDeliveryFinished(DeliveryFinished finished)
    {
        (_scheduler, var decision) = _scheduler.Finished(_state, ConnectionNumber(Sender), finished, Now);
        if (finished.ConnectFailure is { EveryHostUnreachable: true } failure)
        {
            _log.BackingOff(_state.Domain, _scheduler.Shaping.BackoffUntil, failure.Text);
        }

        if (finished.Error is { } error)
        {
            _log.RunFailed(error, finished.MessageId, _state.Domain);
        }

        switch (decision)
        {
            case RecordOutcome outcome:
                _writes = _writes.Add(outcome.MessageId, outcome.Result, Now);
                FlushWrites();
                break;
            case Abandon abandon:
                PersistThen(abandon.Event, e => _log.Abandoned(e, _state.Domain));
                return;
        }

        AfterChange();
    }

    private void OnDsnFinished(DsnFinished finished)
    {
        (_scheduler, var decided) = _scheduler.DsnRunFinished(_state, finished, Now);
        if (finished.Retry)
        {
            _log.DsnRetry(finished.MessageId, finished.Error);
        }

        if (decided is null)
        {
            AfterChange();
            return;
        }

        PersistThen(decided, queued => _log.DsnQueued(queued, finished.Error));
    }

    private void CancelTick()
    {
        if (_tickAt is not null)
        {
            Timers.Cancel(TickTimer);
            _tickAt = null;
        }
    }

    private static int? ConnectionNumber(IActorRef actor) =>
        actor.Path.Name.StartsWith(ConnectionPrefix, StringComparison.Ordinal) && int.TryParse(actor.Path.Name.AsSpan(ConnectionPrefix.Length), out int n) ? n : null;

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record SnapshotTimeout;

    private sealed class SuspensionChanged
    {
        public static readonly SuspensionChanged Instance = new();
    }

    /// <summary>The shard's stop message for a passivating queue and for a shard hand-off (local only; see
    /// <see cref="DomainQueueEntity.StopMessage"/> and <see cref="DeliveryScheduler.Next"/>).</summary>
    internal sealed class StopQueue
    {
        public static readonly StopQueue Instance = new();
    }
}
