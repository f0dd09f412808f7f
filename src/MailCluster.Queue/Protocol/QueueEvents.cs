namespace MailCluster.Queue.Protocol;

// Persisted events and snapshots: these records ARE the storage format. Rename nothing; add fields only
// as optional (nullable) ones; a change of meaning needs a new manifest (see QueueSerializer).

public sealed record Enqueued(
    string Domain,
    string MessageId,
    string Sender,
    IReadOnlyList<string> Recipients,
    DateTimeOffset ArrivedAt,
    DsnEnvelope? Dsn = null) : IQueueMessage
{
    /// <summary>What the acceptance knew of the message, for the delivery events (issue 16); null when events are off
    /// and in rows of older releases, which wrote it as a <see cref="Events.ReceptionDetails"/> row of its own just
    /// before. With it the row's manifest is <c>mc.queue.enqueued.v2</c> (see QueueSerializer); the queue's state
    /// ignores it.</summary>
    public Events.ReceptionDetails? Details { get; init; }
}

public enum RecipientResultKind
{
    Delivered = 0,
    Deferred = 1,
    Failed = 2,
    Expired = 3,
}

/// <param name="NextAttemptAt">Set for <see cref="RecipientResultKind.Deferred"/>.</param>
/// <param name="Report">The RFC 3464 action to report to the sender for this result (<c>failed</c>, <c>delayed</c>,
/// <c>delivered</c>, <c>relayed</c>), or null when no DSN is due (null sender, NOTIFY=NEVER, not asked for).</param>
public sealed record RecipientResult(
    string Recipient,
    RecipientResultKind Kind,
    int Code,
    string EnhancedCode,
    string Text,
    DateTimeOffset? NextAttemptAt,
    string? Report = null);

public sealed record AttemptCompleted(
    string MessageId,
    DateTimeOffset At,
    IReadOnlyList<RecipientResult> Results,
    string? RemoteMta,
    string? TlsProtocol) : IQueueMessage
{
    /// <summary>The delivery result's <see cref="Delivery.DeliveryResult.Relay"/>, for the mail log of the attempt just
    /// decided. Not part of the storage format (mc.queue.attempt-completed.v1 keeps its shape): null after recovery.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Relay { get; init; }

    /// <summary>Where the attempt went (next hop, TLS, node), for the delivery events (issue 16); null when events are
    /// off, for decisions that were no attempt, and in rows of older releases, which wrote it as an
    /// <see cref="Events.AttemptDetails"/> row of its own just before. With it the row's manifest is
    /// <c>mc.queue.attempt-completed.v2</c>; the queue's state ignores it.</summary>
    public Events.AttemptDetails? Details { get; init; }
}

/// <summary>The message was never committed to the spool (acceptance failed) or its body is gone: it is
/// dropped without delivery or bounce.</summary>
public sealed record MessageAbandoned(string MessageId, DateTimeOffset At, string Reason) : IQueueMessage;

/// <summary>The DSN for <paramref name="Recipients"/> of the message is durably queued as message
/// <paramref name="DsnMessageId"/> (or was dropped, with a null id, when it could not be built); their reports are done.</summary>
public sealed record DsnQueued(string MessageId, DateTimeOffset At, IReadOnlyList<string> Recipients, string? DsnMessageId) : IQueueMessage;

public sealed record PendingRecipientSnapshot(string Address, int Attempts, DateTimeOffset NextAttemptAt, string? LastError, bool? DelayWarned = null);

/// <summary>One recipient's line of a DSN still to be sent (RFC 3464 §2.3).</summary>
public sealed record DsnReportSnapshot(
    string Recipient,
    string Action,
    string Status,
    int Code,
    string Text,
    string? RemoteMta,
    DateTimeOffset At);

/// <param name="OnHoldSince">Set while an operator holds the message (<see cref="MessageOnHold"/>); absent otherwise,
/// so a snapshot without holds keeps the shape it always had.</param>
/// <param name="HeldSeconds">Operator-hold time of earlier, released holds: not counted in the message's age for
/// expiry; absent when zero.</param>
public sealed record QueuedMessageSnapshot(
    string MessageId,
    string Sender,
    DateTimeOffset ArrivedAt,
    IReadOnlyList<PendingRecipientSnapshot> Pending,
    DsnEnvelope? Dsn = null,
    IReadOnlyList<DsnReportSnapshot>? Reports = null,
    DateTimeOffset? OnHoldSince = null,
    double? HeldSeconds = null);

public sealed record DomainQueueSnapshot(string Domain, IReadOnlyList<QueuedMessageSnapshot> Messages) : IQueueMessage;

/// <summary>An operator flushed the queue: every pending recipient due after <paramref name="At"/> is due at it.</summary>
public sealed record QueueFlushed(DateTimeOffset At) : IQueueMessage;

/// <summary>An operator removed the message from the queue: no delivery, no bounce.</summary>
public sealed record MessageDeleted(string MessageId, DateTimeOffset At) : IQueueMessage;

/// <summary>An operator put the message on hold (postsuper -h): none of its recipients is attempted until a
/// <see cref="MessageReleased"/>, and the time on hold does not count towards its maximum age. Not to be confused with
/// the scheduler's volatile commit-grace and DSN-retry holds, which are never persisted.</summary>
public sealed record MessageOnHold(string MessageId, DateTimeOffset At) : IQueueMessage;

/// <summary>An operator released the message from hold (postsuper -H): its recipients are due at their next attempt
/// as scheduled before the hold (at once, if that time has passed), and <c>At</c> minus the hold's start is added to
/// the time not counted in its age.</summary>
public sealed record MessageReleased(string MessageId, DateTimeOffset At) : IQueueMessage;
