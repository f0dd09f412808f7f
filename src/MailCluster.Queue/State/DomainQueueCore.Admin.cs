using MailCluster.Queue.Protocol;
using MailCluster.Queue.Suspensions;
using MailCluster.Queue.Views;

namespace MailCluster.Queue.State;

/// <summary>
/// The operator's commands and the read-only questions, as decisions: the state decides each event
/// (DomainQueueState.Admin.cs, .Hold.cs) and the scheduler what a flush resets; this adds the answer and the log line.
/// A message being delivered is neither deleted nor bounced (<see cref="MessageAdminOutcome.InFlight"/>); a hold of it is
/// accepted (that attempt finishes, no new one starts; the answer says so). Questions persist nothing.
/// </summary>
internal sealed partial class DomainQueueCore<TReply>
{
    /// <summary>The listing's share of a remoting frame (Akka's default maximum is 128,000 bytes).</summary>
    public const int ListingByteBudget = 64 * 1024;

    public const int MaxListLimit = 1000;

    private DestinationSuspension? _suspension;

    /// <summary>Flush (postqueue -f): holds are cleared and a backing-off destination probed now even when no recipient
    /// waits (then nothing is persisted and the answer counts 0).</summary>
    public QueueDecision Flush(DateTimeOffset now)
    {
        int count = State.DeferredAt(now);
        Scheduler = Scheduler.Flushed(now);
        return State.DecideFlush(now) is { } e
            ? new QueueDecision(e, new QueueFlushAck(State.Domain, count), DomainQueueLog.Flushed(State.Domain, count))
            : QueueDecision.Answer(new QueueFlushAck(State.Domain, 0));
    }

    public QueueDecision Delete(string messageId, DateTimeOffset now) => Admin(messageId, State.DecideDelete(messageId, now), "deleted from");

    /// <summary>The same event as a delivery attempt with permanent failures: the DSN goes out through the state's reports.</summary>
    public QueueDecision Bounce(string messageId, DateTimeOffset now) => Admin(messageId, State.DecideBounce(messageId, now, _retry), "bounced in");

    public QueueDecision Hold(string messageId, DateTimeOffset now)
    {
        var (outcome, decided) = State.DecideHold(messageId, now);
        bool inFlight = Scheduler.InFlight.Contains(messageId);
        var reply = new MessageHoldAck(State.Domain, messageId, outcome, inFlight);
        return decided is null ? QueueDecision.Answer(reply) : new QueueDecision(decided, reply, DomainQueueLog.PutOnHold(decided, State.Domain, inFlight));
    }

    public QueueDecision Release(string messageId, DateTimeOffset now)
    {
        var (outcome, decided) = State.DecideRelease(messageId, now);
        var reply = new MessageHoldAck(State.Domain, messageId, outcome);
        return decided is null
            ? QueueDecision.Answer(reply)
            : new QueueDecision(decided, reply, DomainQueueLog.ReleasedFromHold(decided, State.Domain, State.Messages[messageId].OnHoldSince));
    }

    /// <summary>A page of the queue (offset at least 0, limit 1 to <see cref="MaxListLimit"/>, at most
    /// <see cref="ListingByteBudget"/>).</summary>
    public QueueDecision List(int offset, int limit, DateTimeOffset now) =>
        QueueDecision.Answer(State.List(Math.Max(0, offset), Math.Clamp(limit, 1, MaxListLimit), Scheduler.InFlight, now, ListingByteBudget));

    /// <summary>The orphan sweep's question (<see cref="GroupCommit{TReply}.Holding"/>).</summary>
    public QueueDecision FindHeld(IEnumerable<string> messageIds) => QueueDecision.Answer(new HeldMessages(State.Domain, Writes.Holding(State, messageIds)));

    /// <summary>The cluster-wide view's summary row (issue 14).</summary>
    public QueueDecision Summary(DateTimeOffset now, DestinationSuspension? suspension) =>
        QueueDecision.Answer(State.Summarize(Scheduler.InFlight, now, suspension));

    public QueueDecision Inspect(string messageId, DateTimeOffset now) => QueueDecision.Answer(State.Inspect(messageId, Scheduler.InFlight, now));

    /// <summary>The queue's figures for the ops API: messages, recipients, deliveries running, messages on hold, and the
    /// destination's active suspension as this node last read it.</summary>
    public QueueStatus Status(DestinationSuspension? suspension) =>
        new(State.Domain, State.Messages.Count, State.RecipientCount, Scheduler.InFlight.Count)
        {
            OnHold = State.OnHoldCount,
            Suspension = suspension is null ? null : new SuspensionView(suspension.Until, suspension.Reason),
        };

    /// <summary>The destination's suspension as the node reads it now: logged when it changes for this queue (not for
    /// every queue at a node's first read of an empty table).</summary>
    public QueueDecision SuspensionChanged(DestinationSuspension? suspension)
    {
        if (suspension == _suspension)
        {
            return QueueDecision.None;
        }

        _suspension = suspension;
        return new QueueDecision { Notes = [DomainQueueLog.SuspensionChanged(Key.EntityId, suspension)] };
    }

    /// <summary>Delete and bounce: a busy message is refused, one the state has nothing to decide for is not found.</summary>
    private QueueDecision Admin(string messageId, IQueueMessage? decided, string what) =>
        Scheduler.Busy(messageId) ? QueueDecision.Answer(new MessageAdminAck(State.Domain, messageId, MessageAdminOutcome.InFlight))
        : decided is null ? QueueDecision.Answer(new MessageAdminAck(State.Domain, messageId, MessageAdminOutcome.NotFound))
        : new QueueDecision(decided, new MessageAdminAck(State.Domain, messageId, MessageAdminOutcome.Done), DomainQueueLog.ByOperator(messageId, what, State.Domain));
}
