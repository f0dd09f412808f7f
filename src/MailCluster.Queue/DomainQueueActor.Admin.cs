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

    /// <summary>Answers a listing or the orphan sweep's question.</summary>
    private void Answer(object reply)
    {
        Sender.Tell(reply);
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

        PersistThen(e, _ =>
        {
            _log.Info("Queue {0} flushed by the operator: {1} messages due now", _state.Domain, count);
            replyTo.Tell(new QueueFlushAck(_state.Domain, count));
        });
    }

    /// <summary>Delete and bounce: a busy message is refused (<see cref="MessageAdminOutcome.InFlight"/>), one the state
    /// has nothing to decide for is <see cref="MessageAdminOutcome.NotFound"/>; otherwise the decided event is persisted,
    /// applied and acknowledged.</summary>
    private void OnAdmin<TEvent>(string messageId, Func<TEvent?> decide, string what)
        where TEvent : class, IQueueMessage
    {
        var replyTo = Sender;
        if ((_scheduler.Busy(messageId) ? null : decide()) is not { } decided)
        {
            replyTo.Tell(new MessageAdminAck(_state.Domain, messageId, _scheduler.Busy(messageId) ? MessageAdminOutcome.InFlight : MessageAdminOutcome.NotFound));
            AfterChange();
            return;
        }

        PersistThen(decided, _ =>
        {
            _log.Info("Message {0} {1} {2} by the operator", messageId, what, _state.Domain);
            replyTo.Tell(new MessageAdminAck(_state.Domain, messageId, MessageAdminOutcome.Done));
        });
    }
}
