using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Queue.State;

namespace MailCluster.Queue;

/// <summary>
/// The persistent, sharded queue of one recipient domain: a thin shell over <see cref="DomainQueueState"/>.
/// It persists Enqueued events in batches (commands that arrive while a write is in flight go into the next
/// write), runs up to N deliveries at once, persists their outcomes, releases spool bodies, snapshots every
/// N events, and passivates when nothing is pending (so remember-entities forgets it).
/// </summary>
public sealed class DomainQueueActor : ReceivePersistentActor, IWithTimers
{
    private const string TickTimer = "tick";
    private static readonly TimeSpan UncommittedRecheck = TimeSpan.FromSeconds(2);

    private readonly QueueServices _services;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _holdUntil = new(StringComparer.Ordinal);
    private List<(Enqueue Command, IActorRef ReplyTo)> _enqueueBuffer = [];
    private bool _writingEnqueues;
    private DomainQueueState _state;

    public DomainQueueActor(string domain, QueueServices services)
    {
        _services = services;
        _state = DomainQueueState.Empty(domain);
        PersistenceId = "dq-" + domain;

        Recover<SnapshotOffer>(offer => _state = DomainQueueState.FromSnapshot((DomainQueueSnapshot)offer.Snapshot));
        Recover<Enqueued>(e => _state = _state.Apply(e));
        Recover<AttemptCompleted>(e => _state = _state.Apply(e));
        Recover<MessageAbandoned>(e => _state = _state.Apply(e));

        Command<Enqueue>(OnEnqueue);
        Command<MessageCommitted>(OnCommitted);
        Command<Tick>(_ => StartDueDeliveries());
        Command<DeliveryFinished>(OnDeliveryFinished);
        Command<GetQueueStatus>(_ => Sender.Tell(new QueueStatus(_state.Domain, _state.Messages.Count, _state.RecipientCount, _inFlight.Count)));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of {0} failed", PersistenceId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "Deleting old snapshots of {0} failed", PersistenceId));
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

    private void OnEnqueue(Enqueue command)
    {
        _enqueueBuffer.Add((command, Sender));
        if (!_writingEnqueues)
        {
            FlushEnqueues();
        }
    }

    /// <summary>Group commit per entity: one journal write for everything buffered since the last one.</summary>
    private void FlushEnqueues()
    {
        if (_enqueueBuffer.Count == 0)
        {
            return;
        }

        var batch = _enqueueBuffer;
        _enqueueBuffer = [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var events = new List<Enqueued>(batch.Count);
        foreach (var (command, _) in batch)
        {
            if (_state.Decide(command) is { } e && seen.Add(e.MessageId))
            {
                events.Add(e);
            }
        }

        _writingEnqueues = true;
        PersistAllAsync(events, e =>
        {
            _state = _state.Apply(e);

            // The first attempt waits for the commit nudge (the body is not deliverable before it).
            _holdUntil[e.MessageId] = Now + TimeSpan.FromSeconds(Math.Min(5, _services.Options.CommitGraceSeconds));
            MaybeSnapshot();
        });
        DeferAsync(batch, done =>
        {
            foreach (var (command, replyTo) in done)
            {
                replyTo.Tell(new EnqueueAck(command.Domain, command.MessageId));
            }

            _writingEnqueues = false;
            ScheduleNext();
            FlushEnqueues();
        });
    }

    private void OnCommitted(MessageCommitted committed)
    {
        if (_holdUntil.Remove(committed.MessageId))
        {
            StartDueDeliveries();
        }
    }

    private void StartDueDeliveries()
    {
        var now = Now;
        foreach (var message in _state.Due(now))
        {
            if (_inFlight.Count >= _services.Options.MaxConcurrentDeliveriesPerDomain)
            {
                break;
            }

            if (_inFlight.Contains(message.MessageId) || (_holdUntil.TryGetValue(message.MessageId, out var hold) && hold > now))
            {
                continue;
            }

            _holdUntil.Remove(message.MessageId);
            _inFlight.Add(message.MessageId);
            var recipients = message.DueAt(now).Select(r => r.Address).ToList();
            DeliveryRun.Start(_services, _state.Domain, message, recipients).PipeTo(Self);
        }

        ScheduleNext();
    }

    private void OnDeliveryFinished(DeliveryFinished finished)
    {
        _inFlight.Remove(finished.MessageId);
        switch (finished.Spool)
        {
            case SpoolStatus.Committed when finished.Result is { } result:
                var attempt = _state.Decide(finished.MessageId, result, Now, _services.Retry, Random.Shared.NextDouble);
                if (attempt is not null)
                {
                    Persist(attempt, OnAttemptPersisted);
                    return;
                }

                break;
            case SpoolStatus.Uncommitted when _state.Messages.TryGetValue(finished.MessageId, out var message)
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

    private void OnAttemptPersisted(AttemptCompleted e)
    {
        _state = _state.Apply(e);
        foreach (var r in e.Results)
        {
            _log.Info("{0} to <{1}> {2}: {3} {4} {5}", e.MessageId, r.Recipient, r.Kind, r.Code, r.EnhancedCode, r.Text);
        }

        if (!_state.Messages.ContainsKey(e.MessageId))
        {
            ReleaseBody(e.MessageId);
        }

        MaybeSnapshot();
        AfterChange();
    }

    private void ReleaseBody(string messageId)
    {
        var domain = _state.Domain;
        var log = _log;
        _services.Spool.ReleaseAsync(messageId, domain, CancellationToken.None).ContinueWith(
            t => log.Warning(t.Exception, "Releasing spool body {0} for {1} failed; the body stays until cleaned", messageId, domain),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted,
            TaskScheduler.Default);
    }

    private void AfterChange()
    {
        if (_state.IsEmpty && _inFlight.Count == 0 && !_writingEnqueues && _enqueueBuffer.Count == 0)
        {
            Timers.CancelAll();
            Context.Parent.Tell(new Passivate(PoisonPill.Instance));
            return;
        }

        StartDueDeliveries();
    }

    private void MaybeSnapshot()
    {
        if (LastSequenceNr % _services.Options.SnapshotEvery == 0)
        {
            SaveSnapshot(_state.ToSnapshot());
        }
    }

    private void ScheduleNext()
    {
        DateTimeOffset? next = null;
        foreach (var message in _state.Messages.Values)
        {
            if (_inFlight.Contains(message.MessageId))
            {
                continue;
            }

            var at = message.NextAttemptAt;
            if (_holdUntil.TryGetValue(message.MessageId, out var hold) && hold > at)
            {
                at = hold;
            }

            next = next is null || at < next ? at : next;
        }

        if (next is null)
        {
            Timers.Cancel(TickTimer);
            return;
        }

        var delay = next.Value - Now;
        Timers.StartSingleTimer(TickTimer, Tick.Instance, delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
