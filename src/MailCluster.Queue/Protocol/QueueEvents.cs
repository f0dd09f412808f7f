namespace MailCluster.Queue.Protocol;

// Persisted events and snapshots: these records ARE the storage format. Rename nothing; add fields only
// as optional (nullable) ones; a change of meaning needs a new manifest (see QueueSerializer).

public sealed record Enqueued(
    string Domain,
    string MessageId,
    string Sender,
    IReadOnlyList<string> Recipients,
    DateTimeOffset ArrivedAt,
    DsnEnvelope? Dsn = null) : IQueueMessage;

public enum RecipientResultKind
{
    Delivered = 0,
    Deferred = 1,
    Failed = 2,
    Expired = 3,
}

/// <param name="NextAttemptAt">Set for <see cref="RecipientResultKind.Deferred"/>.</param>
public sealed record RecipientResult(
    string Recipient,
    RecipientResultKind Kind,
    int Code,
    string EnhancedCode,
    string Text,
    DateTimeOffset? NextAttemptAt);

public sealed record AttemptCompleted(
    string MessageId,
    DateTimeOffset At,
    IReadOnlyList<RecipientResult> Results,
    string? RemoteMta,
    string? TlsProtocol) : IQueueMessage;

/// <summary>The message was never committed to the spool (acceptance failed) or its body is gone: it is
/// dropped without delivery or bounce.</summary>
public sealed record MessageAbandoned(string MessageId, DateTimeOffset At, string Reason) : IQueueMessage;

public sealed record PendingRecipientSnapshot(string Address, int Attempts, DateTimeOffset NextAttemptAt, string? LastError);

public sealed record QueuedMessageSnapshot(
    string MessageId,
    string Sender,
    DateTimeOffset ArrivedAt,
    IReadOnlyList<PendingRecipientSnapshot> Pending);

public sealed record DomainQueueSnapshot(string Domain, IReadOnlyList<QueuedMessageSnapshot> Messages) : IQueueMessage;
