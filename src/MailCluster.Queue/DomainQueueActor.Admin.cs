using System.Diagnostics.CodeAnalysis;
using Akka.Actor;
using Akka.Event;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue;

/// <summary>
/// Queue administration (ops API): list, flush, delete, bounce. Decisions are the state's (DomainQueueState.Admin.cs)
/// and the scheduler's (what a flush, delete or bounce resets); this shell persists them and replies. A message being
/// delivered is neither deleted nor bounced: the answer is <see cref="MessageAdminOutcome.InFlight"/>. A queue started
/// only to answer, with nothing in it, passivates again (else remember-entities would restart it on every node start).
/// </summary>
public sealed partial class DomainQueueActor
{
    /// <summary>The listing's share of a remoting frame (Akka's default maximum is 128,000 bytes).</summary>
    private const int ListingByteBudget = 64 * 1024;

    private const int MaxListLimit = 1000;

    private void OnList(ListMessages list)
    {
        Sender.Tell(_state.List(Math.Max(0, list.Offset), Math.Clamp(list.Limit, 1, MaxListLimit), _scheduler.InFlight, Now, ListingByteBudget));
        AfterChange();
    }

    /// <summary>The orphan sweep's question. Mail not yet in the state (an Enqueue buffered or being written) counts as
    /// held too: a "no" must mean that this queue will never need the body.</summary>
    private void OnFindHeld(FindHeldMessages find)
    {
        var asked = find.MessageIds.ToHashSet(StringComparer.Ordinal);
        var held = _state.Holding(asked).Concat(UnappliedEnqueues.Where(asked.Contains)).Distinct(StringComparer.Ordinal).ToList();
        Sender.Tell(new HeldMessages(_state.Domain, held));
        AfterChange();
    }

    private void OnFlush(FlushMessages flush)
    {
        var (now, replyTo) = (Now, Sender);
        int count = _state.DeferredAt(now);
        _scheduler = _scheduler.Flushed(now);
        if (_state.DecideFlush(now) is not { } e)
        {
            replyTo.Tell(new QueueFlushAck(_state.Domain, 0));
            AfterChange();
            return;
        }

        Persist(e, flushed =>
        {
            _log.Info("Queue {0} flushed by the operator: {1} messages due now", _state.Domain, count);
            Applied(flushed, null);
            replyTo.Tell(new QueueFlushAck(_state.Domain, count));
            AfterChange();
        });
    }

    private void OnDelete(DeleteMessage delete)
    {
        var replyTo = Sender;
        if (TryDecideAdmin(delete.MessageId, replyTo, () => _state.DecideDelete(delete.MessageId, Now), out var e))
        {
            Persist(e, deleted =>
            {
                _log.Info("Message {0} deleted from {1} by the operator", deleted.MessageId, _state.Domain);
                _scheduler = _scheduler.Deleted(deleted.MessageId);
                Applied(deleted, deleted.MessageId);
                replyTo.Tell(new MessageAdminAck(_state.Domain, deleted.MessageId, MessageAdminOutcome.Done));
                AfterChange();
            });
        }
    }

    /// <summary>The same event as a delivery attempt with permanent failures: the DSN goes out through the reports.</summary>
    private void OnBounce(BounceMessage bounce)
    {
        var replyTo = Sender;
        if (TryDecideAdmin(bounce.MessageId, replyTo, () => _state.DecideBounce(bounce.MessageId, Now, _services.Retry), out var e))
        {
            Persist(e, attempt =>
            {
                _log.Info("Message {0} in {1} bounced by the operator", attempt.MessageId, _state.Domain);
                _scheduler = _scheduler.Bounced(attempt.MessageId);
                OnAttemptPersisted(attempt);
                replyTo.Tell(new MessageAdminAck(_state.Domain, attempt.MessageId, MessageAdminOutcome.Done));
                AfterChange();
            });
        }
    }

    /// <summary>What delete and bounce share before they persist: a busy message is refused, one the state has
    /// nothing to decide for is answered <see cref="MessageAdminOutcome.NotFound"/>; otherwise the event to persist.</summary>
    private bool TryDecideAdmin<TEvent>(string messageId, IActorRef replyTo, Func<TEvent?> decide, [NotNullWhen(true)] out TEvent? decided)
        where TEvent : class
    {
        decided = _scheduler.Busy(messageId) ? null : decide();
        if (decided is null)
        {
            replyTo.Tell(new MessageAdminAck(_state.Domain, messageId, _scheduler.Busy(messageId) ? MessageAdminOutcome.InFlight : MessageAdminOutcome.NotFound));
            AfterChange();
        }

        return decided is not null;
    }
}
