using System.Diagnostics.CodeAnalysis;
using Akka.Actor;
using Akka.Event;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue;

/// <summary>
/// Queue administration (ops API): list, flush, delete, bounce. Decisions are the state's
/// (<see cref="State.DomainQueueState"/>, DomainQueueState.Admin.cs); this shell persists them, replies, and resets what
/// only it knows (holds and the destination backoff). A message being delivered is neither deleted nor bounced
/// (its outcome could contradict the operator's choice): the answer is <see cref="MessageAdminOutcome.InFlight"/>.
/// </summary>
public sealed partial class DomainQueueActor
{
    /// <summary>The listing's share of a remoting frame (Akka's default maximum is 128,000 bytes).</summary>
    private const int ListingByteBudget = 64 * 1024;

    private const int MaxListLimit = 1000;

    private void OnList(ListMessages list)
    {
        Sender.Tell(_state.List(Math.Max(0, list.Offset), Math.Clamp(list.Limit, 1, MaxListLimit), _inFlight, Now, ListingByteBudget));

        // An operator may ask about any domain: a queue started only to answer, with nothing in it, passivates again
        // (else remember-entities would restart it on every node start for ever).
        AfterChange();
    }

    /// <summary>The orphan sweep's question. Mail not yet in the state (an Enqueue buffered or being written) counts as
    /// held too: a "no" must mean that this queue will never need the body.</summary>
    private void OnFindHeld(FindHeldMessages find)
    {
        var asked = find.MessageIds.ToHashSet(StringComparer.Ordinal);
        var held = _state.Holding(asked).Concat(UnappliedEnqueues.Where(asked.Contains)).Distinct(StringComparer.Ordinal).ToList();
        Sender.Tell(new HeldMessages(_state.Domain, held));

        // A queue started only to answer, with nothing in it, passivates again (as for a listing).
        AfterChange();
    }

    private void OnFlush(FlushMessages flush)
    {
        var now = Now;
        var replyTo = Sender;
        int count = _state.DeferredAt(now);

        // Holds (commit waits, failed runs) and the destination backoff live only here: cleared once. Traffic shaping
        // still applies: a destination that was backing off is probed by one connection first.
        _holdUntil.Clear();
        _dsnHoldUntil.Clear();
        _shaping = _shaping.Flushed(now);
        if (_state.DecideFlush(now) is not { } e)
        {
            replyTo.Tell(new QueueFlushAck(_state.Domain, 0));
            AfterChange();
            return;
        }

        Persist(e, flushed =>
        {
            _log.Info("Queue {0} flushed by the operator: {1} messages due now", _state.Domain, count);
            _state = _state.Apply(flushed);
            MaybeSnapshot();
            replyTo.Tell(new QueueFlushAck(_state.Domain, count));
            AfterChange();
        });
    }

    private void OnDelete(DeleteMessage delete)
    {
        var replyTo = Sender;
        if (!TryDecideAdmin(delete.MessageId, replyTo, () => _state.DecideDelete(delete.MessageId, Now), out var e))
        {
            return;
        }

        Persist(e, deleted =>
        {
            _log.Info("Message {0} deleted from {1} by the operator", deleted.MessageId, _state.Domain);
            _state = _state.Apply(deleted);
            _holdUntil.Remove(deleted.MessageId);
            _dsnHoldUntil.Remove(deleted.MessageId);
            ReleaseBody(deleted.MessageId);
            MaybeSnapshot();
            replyTo.Tell(new MessageAdminAck(_state.Domain, deleted.MessageId, MessageAdminOutcome.Done));
            AfterChange();
        });
    }

    private void OnBounce(BounceMessage bounce)
    {
        var replyTo = Sender;
        if (!TryDecideAdmin(bounce.MessageId, replyTo, () => _state.DecideBounce(bounce.MessageId, Now, _services.Retry), out var e))
        {
            return;
        }

        // The same event as a delivery attempt with permanent failures: the DSN goes out through ReportsDue.
        Persist(e, attempt =>
        {
            _log.Info("Message {0} in {1} bounced by the operator", attempt.MessageId, _state.Domain);
            _holdUntil.Remove(attempt.MessageId);
            OnAttemptPersisted(attempt);
            replyTo.Tell(new MessageAdminAck(_state.Domain, attempt.MessageId, MessageAdminOutcome.Done));
            AfterChange();
        });
    }

    /// <summary>
    /// What delete and bounce share before they persist: a message being delivered is refused
    /// (<see cref="MessageAdminOutcome.InFlight"/>, nothing decided), and one the state has nothing to decide for is
    /// answered <see cref="MessageAdminOutcome.NotFound"/> (then the queue may passivate). Otherwise the event to persist.
    /// </summary>
    private bool TryDecideAdmin<TEvent>(string messageId, IActorRef replyTo, Func<TEvent?> decide, [NotNullWhen(true)] out TEvent? decided)
        where TEvent : class
    {
        decided = null;
        if (BusyWith(messageId))
        {
            replyTo.Tell(new MessageAdminAck(_state.Domain, messageId, MessageAdminOutcome.InFlight));
            return false;
        }

        decided = decide();
        if (decided is null)
        {
            replyTo.Tell(new MessageAdminAck(_state.Domain, messageId, MessageAdminOutcome.NotFound));
            AfterChange();
            return false;
        }

        return true;
    }

    /// <summary>A delivery or DSN run of the message is under way, or its outcome is waiting to be persisted.</summary>
    private bool BusyWith(string messageId) => _inFlight.Contains(messageId) || _dsnInFlight.Contains(messageId);
}
