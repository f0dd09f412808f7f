using Akka.Actor;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue;

/// <summary>
/// The operator's hold and release of one message, and what the queue summary reads (held count, suspension). The
/// decisions are the state's (DomainQueueState.Hold.cs); this shell persists them and replies. A hold of a message
/// being delivered is accepted: that attempt finishes and its outcome is recorded, and no new one starts (the answer
/// says so with <see cref="MessageHoldAck.InFlight"/>).
/// </summary>
public sealed partial class DomainQueueActor
{
    private void OnHold(string messageId)
    {
        var replyTo = Sender;
        var (outcome, decided) = _state.DecideHold(messageId, Now);
        bool inFlight = _scheduler.InFlight.Contains(messageId);
        if (decided is null)
        {
            replyTo.Tell(new MessageHoldAck(_state.Domain, messageId, outcome, inFlight));
            AfterChange();
            return;
        }

        PersistThen(decided, e =>
        {
            _log.PutOnHold(e, _state.Domain, inFlight);
            replyTo.Tell(new MessageHoldAck(_state.Domain, messageId, outcome, inFlight));
        });
    }

    private void OnRelease(string messageId)
    {
        var replyTo = Sender;
        var (outcome, decided) = _state.DecideRelease(messageId, Now);
        if (decided is null)
        {
            replyTo.Tell(new MessageHoldAck(_state.Domain, messageId, outcome));
            AfterChange();
            return;
        }

        var since = _state.Messages[messageId].OnHoldSince;
        PersistThen(decided, e =>
        {
            _log.ReleasedFromHold(e, _state.Domain, since);
            replyTo.Tell(new MessageHoldAck(_state.Domain, messageId, outcome));
        });
    }

    /// <summary>The queue's figures for the ops API and the queue summary: messages, recipients, deliveries running,
    /// messages on hold, and the destination's active suspension as this node last read it.</summary>
    private QueueStatus Status()
    {
        var suspension = _services.Suspensions.For(_key.Domain, Now);
        return new QueueStatus(_state.Domain, _state.Messages.Count, _state.RecipientCount, _scheduler.InFlight.Count)
        {
            OnHold = _state.OnHoldCount,
            Suspension = suspension is null ? null : new SuspensionView(suspension.Until, suspension.Reason),
        };
    }
}
