using Akka.Actor;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue;

/// <summary>
/// Group commit per entity (DESIGN "Storage"): Enqueue commands and delivery outcomes that arrive while a journal
/// write is in flight are decided and persisted together in the next write (<c>PersistAllAsync</c>), so a hot domain
/// costs one journal round trip per batch, not one per message or outcome, and the mailbox is never stashed.
/// At most one write is in flight: each batch is decided against the state that includes the previous one, which
/// keeps Enqueue idempotent and an outcome from being decided twice.
/// </summary>
public sealed partial class DomainQueueActor
{
    private List<(Enqueue Command, IActorRef ReplyTo)> _enqueueBuffer = [];
    private List<(string MessageId, DeliveryResult Result, DateTimeOffset At)> _outcomeBuffer = [];
    private List<(Enqueue Command, IActorRef ReplyTo)> _enqueuesWriting = [];
    private bool _writing;

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
        var outcomes = _outcomeBuffer;
        _enqueueBuffer = [];
        _outcomeBuffer = [];
        var events = new List<object>(enqueues.Count + outcomes.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (command, _) in enqueues)
        {
            if (_state.Decide(command) is { } e && seen.Add(e.MessageId))
            {
                events.Add(e);
            }
        }

        foreach (var (messageId, result, at) in outcomes)
        {
            if (_state.Decide(messageId, result, at, _services.Retry, Random.Shared.NextDouble) is { } attempt)
            {
                events.Add(attempt);
            }
            else
            {
                _inFlight.Remove(messageId); // nothing to record (e.g. only unknown recipients): free it now
            }
        }

        _writing = true;
        _enqueuesWriting = enqueues;
        PersistAllAsync(events, OnPersisted);
        DeferAsync(enqueues, done =>
        {
            _enqueuesWriting = [];
            foreach (var (command, replyTo) in done)
            {
                replyTo.Tell(new EnqueueAck(command.Queue.EntityId, command.MessageId));
            }

            _writing = false;
            AfterChange();
            FlushWrites();
        });
    }

    private void OnPersisted(object persisted)
    {
        switch (persisted)
        {
            case Enqueued e:
                _state = _state.Apply(e);

                // The first attempt waits for the commit nudge (the body is not deliverable before it).
                _holdUntil[e.MessageId] = Now + TimeSpan.FromSeconds(Math.Min(5, _services.Options.CommitGraceSeconds));
                MaybeSnapshot();
                break;
            case AttemptCompleted e:
                OnAttemptPersisted(e);
                break;
        }
    }
}
