using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Dsn;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Queue.State;

namespace MailCluster.Queue;

/// <summary>
/// The persistent, sharded queue of one recipient domain: a thin shell over <see cref="DomainQueueState"/>.
/// It persists Enqueued events in batches (commands that arrive while a write is in flight go into the next
/// write), hands due messages to its outbound connection children (one per open connection, reused, shaped per
/// destination), persists their outcomes, queues DSNs, releases spool bodies, snapshots every N events, and
/// passivates when nothing is pending (so remember-entities forgets it).
/// </summary>
public sealed partial class DomainQueueActor : ReceivePersistentActor, IWithTimers
{
    private const string TickTimer = "tick";
    private const string SnapshotTimer = "snapshot";
    private const string StopGraceTimer = "stop-grace";
    private static readonly TimeSpan UncommittedRecheck = TimeSpan.FromSeconds(2);

    /// <summary>How long a stopping queue waits for deliveries already running (journal writes are always waited for).</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private readonly QueueServices _services;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _holdUntil = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string?> _connections = [];
    private readonly HashSet<string> _dsnInFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _dsnHoldUntil = new(StringComparer.Ordinal);
    private readonly DomainShaping _limits;
    private readonly QueueKey _key;
    private DestinationShaping _shaping = DestinationShaping.Initial;
    private int _connectionSerial;
    private int _eventsSinceSnapshot;
    private bool _snapshotting;
    private bool _passivating;
    private bool _stopping;
    private bool _stopGraceOver;
    private DomainQueueState _state;

    public DomainQueueActor(string domain, QueueServices services)
    {
        _services = services;
        _key = QueueKey.Parse(domain); // the entity id; a bucket delivers, shapes and releases as its domain
        _state = DomainQueueState.Empty(domain);
        PersistenceId = _key.PersistenceId;
        _limits = services.Connector.ShapingFor(_key.Domain);

        // Replayed events count towards the next snapshot, so restarts cannot let the replay grow without bound.
        Recover<SnapshotOffer>(offer => (_state, _eventsSinceSnapshot) = (DomainQueueState.FromSnapshot((DomainQueueSnapshot)offer.Snapshot), 0));
        Recover<Enqueued>(e => (_state, _eventsSinceSnapshot) = (_state.Apply(e), _eventsSinceSnapshot + 1));
        Recover<AttemptCompleted>(e => (_state, _eventsSinceSnapshot) = (_state.Apply(e), _eventsSinceSnapshot + 1));
        Recover<MessageAbandoned>(e => (_state, _eventsSinceSnapshot) = (_state.Apply(e), _eventsSinceSnapshot + 1));
        Recover<DsnQueued>(e => (_state, _eventsSinceSnapshot) = (_state.Apply(e), _eventsSinceSnapshot + 1));
        Recover<QueueFlushed>(e => (_state, _eventsSinceSnapshot) = (_state.Apply(e), _eventsSinceSnapshot + 1));
        Recover<MessageDeleted>(e => (_state, _eventsSinceSnapshot) = (_state.Apply(e), _eventsSinceSnapshot + 1));

        Command<Enqueue>(OnEnqueue);
        Command<MessageCommitted>(OnCommitted);
        Command<Tick>(_ => StartDueDeliveries());
        Command<DeliveryFinished>(OnDeliveryFinished);
        Command<DsnFinished>(OnDsnFinished);
        Command<Terminated>(OnConnectionStopped);
        Command<GetQueueStatus>(_ => Sender.Tell(new QueueStatus(_state.Domain, _state.Messages.Count, _state.RecipientCount, _inFlight.Count)));
        Command<ListMessages>(OnList);
        Command<FindHeldMessages>(OnFindHeld);
        Command<FlushMessages>(OnFlush);
        Command<DeleteMessage>(OnDelete);
        Command<BounceMessage>(OnBounce);
        Command<WakeUp>(_ => AfterChange());
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f =>
        {
            _log.Warning(f.Cause, "Snapshot of {0} failed", PersistenceId);
            SnapshotDone();
        });
        Command<DeleteSnapshotsSuccess>(_ => SnapshotDone());
        Command<SnapshotTimeout>(_ => SnapshotDone());
        Command<StopQueue>(_ =>
        {
            _stopping = true;
            Timers.StartSingleTimer(StopGraceTimer, StopGraceOver.Instance, StopGrace);
            AfterChange();
        });
        Command<StopGraceOver>(_ =>
        {
            _stopGraceOver = true;
            AfterChange();
        });
        Command<DeleteSnapshotsFailure>(f =>
        {
            _log.Warning(f.Cause, "Deleting old snapshots of {0} failed", PersistenceId);
            SnapshotDone();
        });
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    private DateTimeOffset Now => _services.Clock.GetUtcNow();

    public static Props Props(string domain, QueueServices services) =>
        Akka.Actor.Props.Create(() => new DomainQueueActor(domain, services));

    protected override void OnReplaySuccess()
    {
        if (_state.Messages.Count > 0)
        {
            _log.Info("Domain queue {0} recovered {1} messages ({2} recipients)", _state.Domain, _state.Messages.Count, _state.RecipientCount);
        }

        ScheduleNext();
    }

    private void OnCommitted(MessageCommitted committed)
    {
        if (_holdUntil.Remove(committed.MessageId))
        {
            StartDueDeliveries();
        }
    }

    /// <summary>
    /// Hands due messages to idle connections, and opens new ones while the destination's shaping allows
    /// (connection cap, rate per minute, backoff and probe: <see cref="DestinationShaping"/>); then queues due DSNs.
    /// </summary>
    private void StartDueDeliveries()
    {
        if (_stopping)
        {
            return; // passivating: finish what is running, start nothing (the next incarnation will)
        }

        var now = Now;
        int cap = DestinationShaping.Cap(_limits, _services.Options.MaxConcurrentDeliveriesPerDomain);
        foreach (var message in _state.Due(now))
        {
            if (_inFlight.Contains(message.MessageId) || (_holdUntil.TryGetValue(message.MessageId, out var hold) && hold > now))
            {
                continue;
            }

            if (!_shaping.CanStart(now, _limits.RatePerMinute))
            {
                break;
            }

            var connection = _connections.FirstOrDefault(kv => kv.Value is null).Key;
            if (connection is null)
            {
                if (!_shaping.CanOpen(now, _connections.Count, cap))
                {
                    break;
                }

                connection = Context.Watch(Context.ActorOf(OutboundConnectionActor.Props(_services, _key.Domain, _limits), $"connection-{++_connectionSerial}"));
            }

            _holdUntil.Remove(message.MessageId);
            _inFlight.Add(message.MessageId);
            _connections[connection] = message.MessageId;
            _shaping = _shaping.Started(now);
            connection.Tell(new SendMessage(message, [.. message.DueAt(now).Select(r => r.Address)]));
        }

        foreach (var message in _state.ReportsDue)
        {
            if (!_dsnInFlight.Contains(message.MessageId) && !(_dsnHoldUntil.TryGetValue(message.MessageId, out var hold) && hold > now))
            {
                _dsnInFlight.Add(message.MessageId);
                DsnRun.Start(_services, message).PipeTo(Self);
            }
        }

        ScheduleNext();
    }

    private void OnConnectionStopped(Terminated terminated)
    {
        // A connection that stopped while holding a message (crash, or a message sent as it closed) frees it.
        if (_connections.Remove(terminated.ActorRef, out var assigned) && assigned is not null)
        {
            _inFlight.Remove(assigned);
        }

        AfterChange();
    }

    private void OnDeliveryFinished(DeliveryFinished finished)
    {
        _inFlight.Remove(finished.MessageId);
        if (_connections.ContainsKey(Sender))
        {
            if (finished.Closing)
            {
                _connections.Remove(Context.Unwatch(Sender));
            }
            else
            {
                _connections[Sender] = null;
            }
        }

        if (finished.ConnectFailure is { EveryHostUnreachable: true } failure)
        {
            _shaping = _shaping.ConnectFailed(Now, _services.Retry);
            _log.Warning("Every host of {0} failed at connection level; the destination backs off until {1:o}, then probes: {2}",
                _state.Domain, _shaping.BackoffUntil, failure.Text);
        }
        else if (finished.Result is not null && finished.ConnectFailure is null)
        {
            _shaping = _shaping.Connected();
        }

        switch (finished.Spool)
        {
            case SpoolStatus.Committed when finished.Result is { } result:
                // The message stays in flight until its outcome is persisted and applied (so it is not sent again).
                _inFlight.Add(finished.MessageId);
                _outcomeBuffer.Add((finished.MessageId, result, Now));
                FlushWrites();
                break;
            // Not committed yet: acceptance may still be under way. The body may even be Missing for now, because
            // acceptance writes it side by side with the Enqueued events (MessageAcceptor); only after the
            // grace is the message given up.
            case SpoolStatus.Uncommitted or SpoolStatus.Missing when _state.Messages.TryGetValue(finished.MessageId, out var message)
                && Now - message.ArrivedAt < TimeSpan.FromSeconds(_services.Options.CommitGraceSeconds):
                _holdUntil[finished.MessageId] = Now + UncommittedRecheck;
                break;
            case SpoolStatus.Uncommitted or SpoolStatus.Missing when _state.Messages.ContainsKey(finished.MessageId):
                var reason = finished.Spool == SpoolStatus.Missing ? "spool body missing" : "never committed";
                Persist(new MessageAbandoned(finished.MessageId, Now, reason), e =>
                {
                    _log.Warning("Message {0} in {1} abandoned: {2}", e.MessageId, _state.Domain, e.Reason);
                    _state = _state.Apply(e);
                    ReleaseBody(e.MessageId);
                    MaybeSnapshot();
                    AfterChange();
                });
                return;
            default:
                if (finished.Error is { } error)
                {
                    _log.Warning(error, "Delivery run of {0} in {1} failed; retrying", finished.MessageId, _state.Domain);
                    _holdUntil[finished.MessageId] = Now + TimeSpan.FromSeconds(_services.Retry.Options.InitialSeconds);
                }

                break;
        }

        AfterChange();
    }

    private void OnDsnFinished(DsnFinished finished)
    {
        _dsnInFlight.Remove(finished.MessageId);
        if (finished.Retry)
        {
            _log.Warning("Queueing the DSN for {0} failed; retrying: {1}", finished.MessageId, finished.Error);
            _dsnHoldUntil[finished.MessageId] = Now + TimeSpan.FromSeconds(_services.Retry.Options.InitialSeconds);
            AfterChange();
            return;
        }

        _dsnHoldUntil.Remove(finished.MessageId);
        if (_state.DecideDsnQueued(finished.MessageId, finished.Recipients, finished.DsnMessageId, Now) is not { } e)
        {
            AfterChange();
            return;
        }

        Persist(e, queued =>
        {
            _log.Info("DSN for {0} ({1}) queued as {2}{3}", queued.MessageId, string.Join(", ", queued.Recipients),
                queued.DsnMessageId ?? "nothing", finished.Error is null ? "" : ": " + finished.Error);
            _state = _state.Apply(queued);
            if (!_state.Messages.ContainsKey(queued.MessageId))
            {
                ReleaseBody(queued.MessageId);
            }

            MaybeSnapshot();
            AfterChange();
        });
    }

    /// <summary>Applies a persisted outcome; the caller runs <see cref="AfterChange"/> once per batch.</summary>
    private void OnAttemptPersisted(AttemptCompleted e)
    {
        _inFlight.Remove(e.MessageId);
        _state = _state.Apply(e);
        foreach (var r in e.Results)
        {
            _log.Info("{0} to <{1}> {2}: {3} (via {4}, {5})", e.MessageId, r.Recipient, r.Kind, $"{r.Code} {r.EnhancedCode} {r.Text}",
                e.RemoteMta ?? "no connection", e.TlsProtocol ?? "no TLS");
        }

        if (!_state.Messages.ContainsKey(e.MessageId))
        {
            ReleaseBody(e.MessageId);
        }

        MaybeSnapshot();
    }

    /// <summary>Drops this domain's reference to the body without waiting; a failed release is retried by the
    /// node's <see cref="SpoolReleaser"/> until it succeeds.</summary>
    private void ReleaseBody(string messageId) => _ = _services.Releaser.Release(messageId, _key.Domain, _log);

    /// <summary>
    /// Passivates when nothing is pending, and stops cleanly when the shard says so. The shard answers Passivate, and
    /// starts a hand-off (rebalance, node leaving), with <see cref="StopQueue"/>, not PoisonPill: commands already in
    /// the mailbox before it (an Enqueue that arrived as the queue ran empty, or just before the hand-off) must still be
    /// persisted and acknowledged, and a PoisonPill would stop the entity with that write in flight, leaving its session
    /// waiting for an ack that never comes (451 after the enqueue timeout; seen in the e2e benchmark).
    /// Once told to stop, the queue starts nothing new and stops as soon as its journal writes are done and its
    /// deliveries have reported (their outcomes persisted, so the next owner does not send them again), but waits for
    /// deliveries at most <see cref="StopGrace"/>: the shard buffers the mail of every queue in it until all have
    /// stopped, so a slow remote MTA must not hold new mail past the enqueue timeout. A delivery cut short is retried
    /// by the next owner (a duplicate only if the remote had already accepted DATA).
    /// </summary>
    private void AfterChange()
    {
        var written = !_writing && _enqueueBuffer.Count == 0 && _outcomeBuffer.Count == 0;
        var quiet = written && _inFlight.Count == 0 && _dsnInFlight.Count == 0;
        if (_stopping)
        {
            if (quiet || (written && _stopGraceOver))
            {
                if (_passivating && !_state.IsEmpty)
                {
                    // Mail reached this queue after it asked to passivate and before the shard's stop: the shard would
                    // forget it (remember-entities) with that mail queued. The shard buffers this wake-up for the
                    // passivating entity and, finding it buffered, starts the queue again once it has stopped.
                    _services.DomainQueues().Tell(new WakeUp(_state.Domain), ActorRefs.NoSender);
                }

                Context.Stop(Self);
            }

            return;
        }

        if (quiet && _state.IsEmpty)
        {
            if (!_passivating)
            {
                _passivating = true;
                Timers.CancelAll();
                Context.Parent.Tell(new Passivate(StopQueue.Instance));
            }

            return;
        }

        StartDueDeliveries();
    }

    /// <summary>
    /// Snapshots after SnapshotEvery events, or after as many events as the queue holds messages, whichever is more.
    /// A snapshot costs O(queue size) (and, on SQLite, holds the journal's write lock while it is stored); spacing
    /// them in proportion keeps that O(1) per event (a deep queue was re-serialised in full every 200 events:
    /// quadratic), while recovery still loads one snapshot and replays O(queue size) events.
    /// <para>While a snapshot is saved and the older ones deleted, this entity's next journal write waits
    /// (<see cref="FlushWrites"/>): on SQLite both go to one file with one write lock, and a writer that finds it
    /// taken backs off for 150 ms (Microsoft.Data.Sqlite's busy retry), which stalled every session waiting for 250.</para>
    /// </summary>
    private void MaybeSnapshot()
    {
        if (++_eventsSinceSnapshot >= Math.Max(_services.Options.SnapshotEvery, _state.Messages.Count) && !_snapshotting)
        {
            _eventsSinceSnapshot = 0;
            _snapshotting = true;
            SaveSnapshot(_state.ToSnapshot());

            // Liveness: a snapshot store that never answers must not hold the queue's writes for ever.
            Timers.StartSingleTimer(SnapshotTimer, SnapshotTimeout.Instance, TimeSpan.FromSeconds(5));
        }
    }

    private void SnapshotDone()
    {
        Timers.Cancel(SnapshotTimer);
        _snapshotting = false;
        FlushWrites();
    }

    /// <summary>One timer for the earliest of: a due recipient (after holds, the destination backoff and the rate
    /// limit) and a DSN waiting to be retried. Walks the state's next-attempt index only as far as needed: past the
    /// messages in flight or held, up to the first one that is neither (no later message can be due earlier), so the
    /// cost does not grow with the queue.</summary>
    private void ScheduleNext()
    {
        var now = Now;
        DateTimeOffset? next = null;
        foreach (var (messageId, due) in _state.ByNextAttempt.InOrder())
        {
            if (next is { } earliest && due >= earliest)
            {
                break;
            }

            if (_inFlight.Contains(messageId))
            {
                continue;
            }

            var at = _holdUntil.TryGetValue(messageId, out var hold) && hold > due ? hold : due;
            next = Earliest(next, at);
        }

        if (next is { } first)
        {
            if (_shaping.BackingOff && _shaping.BackoffUntil > first)
            {
                first = _shaping.BackoffUntil;
            }

            var rate = _shaping.NextStart(now, _limits.RatePerMinute);
            next = rate > first ? rate : first;
        }

        foreach (var message in _state.ReportsDue)
        {
            if (!_dsnInFlight.Contains(message.MessageId))
            {
                next = Earliest(next, _dsnHoldUntil.TryGetValue(message.MessageId, out var dsnHold) ? dsnHold : now);
            }
        }

        if (next is null)
        {
            Timers.Cancel(TickTimer);
            return;
        }

        var delay = next.Value - now;
        Timers.StartSingleTimer(TickTimer, Tick.Instance, delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset b) => a is null || b < a ? b : a;

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed class SnapshotTimeout
    {
        public static readonly SnapshotTimeout Instance = new();
    }

    private sealed class StopGraceOver
    {
        public static readonly StopGraceOver Instance = new();
    }

    /// <summary>The shard's stop message for a passivating queue and for a shard hand-off (local only; see
    /// <see cref="DomainQueueEntity.StopMessage"/>).</summary>
    internal sealed class StopQueue
    {
        public static readonly StopQueue Instance = new();
    }
}
