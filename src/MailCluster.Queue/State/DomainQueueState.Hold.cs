using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.State;

/// <summary>
/// The operator's hold (postsuper -h / -H), as pure decisions and folds. A message on hold leaves the next-attempt
/// index (<see cref="DueIndex"/>), so the scheduler never starts it and never wakes for it; its recipients keep their
/// attempts, last error and next attempt time. Its age for expiry stops while it is on hold
/// (<see cref="QueuedMessage.AgeAt"/>), and since a recipient expires only as the outcome of an attempt, a held message
/// never expires. Named "on hold" throughout, distinct from the scheduler's volatile commit-grace and DSN-retry holds.
/// </summary>
public sealed partial record DomainQueueState
{
    /// <summary>The ids of the messages on hold, in ordinal order.</summary>
    public System.Collections.Immutable.ImmutableSortedSet<string> OnHold { get; }

    /// <summary>How many messages an operator holds in this queue (the queue summary's held count).</summary>
    public int OnHoldCount => OnHold.Count;

    /// <summary>
    /// Decides a hold: <see cref="HoldOutcome.OnHold"/> with the event to persist, <see cref="HoldOutcome.AlreadyOnHold"/>
    /// (idempotent: nothing to persist), or <see cref="HoldOutcome.NotFound"/> when the queue does not hold the message or
    /// nothing of it is pending delivery (only its DSN is left to queue, which goes to the sender's domain).
    /// </summary>
    public (HoldOutcome Outcome, MessageOnHold? Event) DecideHold(string messageId, DateTimeOffset now) =>
        !Messages.TryGetValue(messageId, out var message) || message.Pending.IsEmpty ? (HoldOutcome.NotFound, null)
        : message.IsOnHold ? (HoldOutcome.AlreadyOnHold, null)
        : (HoldOutcome.OnHold, new MessageOnHold(messageId, now));

    /// <summary>Decides a release: <see cref="HoldOutcome.Released"/> with the event, <see cref="HoldOutcome.NotOnHold"/>
    /// (idempotent), or <see cref="HoldOutcome.NotFound"/>.</summary>
    public (HoldOutcome Outcome, MessageReleased? Event) DecideRelease(string messageId, DateTimeOffset now) =>
        !Messages.TryGetValue(messageId, out var message) ? (HoldOutcome.NotFound, null)
        : !message.IsOnHold ? (HoldOutcome.NotOnHold, null)
        : (HoldOutcome.Released, new MessageReleased(messageId, now));

    private DomainQueueState ApplyOnHold(MessageOnHold e) =>
        Messages.TryGetValue(e.MessageId, out var message) && !message.IsOnHold && !message.Pending.IsEmpty
            ? With(message, message with { OnHoldSince = e.At })
            : this;

    /// <summary>The hold's length joins <see cref="QueuedMessage.HeldBefore"/> (never negative, whatever the clocks of the
    /// nodes that decided the two events), and the message is back in the index at its next attempt.</summary>
    private DomainQueueState ApplyReleased(MessageReleased e)
    {
        if (!Messages.TryGetValue(e.MessageId, out var message) || message.OnHoldSince is not { } since)
        {
            return this;
        }

        var held = e.At > since ? e.At - since : TimeSpan.Zero;
        return With(message, message with { OnHoldSince = null, HeldBefore = message.HeldBefore + held });
    }
}
