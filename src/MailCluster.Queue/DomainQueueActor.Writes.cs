using Akka.Actor;
using Akka.Event;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue;

/// <summary>
/// Group commit per entity (DESIGN "Storage"): Enqueue commands and delivery outcomes that arrive while a journal
/// write is in flight are decided and persisted together in the next write (<c>PersistAllAsync</c>), so a hot domain
/// costs one journal round trip per batch, not one per message or outcome, and the mailbox is never stashed.
/// At most one write is in flight: each batch is decided against the state that includes the previous one
/// (<see cref="State.DomainQueueState.DecideBatch"/>), which keeps Enqueue idempotent and an outcome from being decided twice.
/// <para>While a snapshot is saved and the older ones deleted, this entity's next journal write waits: on SQLite both
/// go to one file with one write lock, and a writer that finds it taken backs off for 150 ms (Microsoft.Data.Sqlite's
/// busy retry), which stalled every session waiting for 250.</para>
/// </summary>
public sealed partial class DomainQueueActor
{
    private List<(Enqueue Command, IActorRef ReplyTo)> _enqueueBuffer = [];
    private List<(string MessageId, DeliveryResult Result, DateTimeOffset At)> _outcomeBuffer = [];
    private List<(Enqueue Command, IActorRef ReplyTo)> _enqueuesWriting = [];
    private bool _writing;

    /// <summary>A journal write is in flight, or commands wait for the next one.</summary>
    private bool Writing => _writing || _enqueueBuffer.Count > 0 || _outcomeBuffer.Count > 0;

    /// <summary>Enqueue commands received but not yet applied to the state (buffered, or in the write in flight).</summary>
    private IEnumerable<string> UnappliedEnqueues => _enqueueBuffer.Concat(_enqueuesWriting).Select(e => e.Command.MessageId);

    private void OnEnqueue(Enqueue command)
    {
        _enqueueBuffer.Add((command, Sender));
        FlushWrites();
    }

    private void FlushWrites()
    {
        if (_writing || _snapshotting || (_enqueueBuffer.Count == 0 && _outcomeBuffer.Count == 0))
        {
            return;
        }

        var enqueues = _enqueueBuffer;
        var (events, nothingToRecord) = _state.DecideBatch(enqueues.Select(e => e.Command), _outcomeBuffer, _services.Retry, Random.Shared.NextDouble);
        (_enqueueBuffer, _outcomeBuffer, _enqueuesWriting, _writing) = ([], [], enqueues, true);
        foreach (var messageId in nothingToRecord)
        {
            _scheduler = _scheduler.Settled(messageId);
        }

        PersistAllAsync(events, OnPersisted);
        DeferAsync(enqueues, done =>
        {
            _enqueuesWriting = [];
            foreach (var (command, replyTo) in done)
            {
                replyTo.Tell(new EnqueueAck(command.Domain, command.MessageId));
            }

            _writing = false;
            AfterChange();
            FlushWrites();
        });
    }

    /// <summary>Applies a persisted event of the batch; the write's completion runs <see cref="AfterChange"/> once.</summary>
    private void OnPersisted(IQueueMessage persisted)
    {
        switch (persisted)
        {
            case Enqueued e:
                Applied(e, null);
                _scheduler = _scheduler.Enqueued(e.MessageId, Now);
                break;
            case AttemptCompleted e:
                OnAttemptPersisted(e);
                break;
        }
    }

    private void OnAttemptPersisted(AttemptCompleted e)
    {
        foreach (var r in e.Results)
        {
            _log.Info("{0} to <{1}> {2}: {3} (via {4}, {5})", e.MessageId, r.Recipient, r.Kind, $"{r.Code} {r.EnhancedCode} {r.Text}",
                e.RemoteMta ?? "no connection", e.TlsProtocol ?? "no TLS");
        }

        Applied(e, e.MessageId);
        _scheduler = _scheduler.Settled(e.MessageId);
    }
}
