using System.Text.Json.Serialization;

namespace MailCluster.Queue.Protocol;

// Queue administration (what postqueue -p / -f and postsuper -d give a Postfix operator), sent by the ops API to
// one domain-queue entity each (a bucketed domain gets one command per bucket). They cross nodes: every command
// and reply has a manifest in QueueSerializer, and a reply stays well under the remoting frame size (128 kB).

/// <summary>Lists the messages with a pending recipient, by next attempt, from <paramref name="Offset"/> on.
/// Answered with <see cref="QueueListing"/> holding at most <paramref name="Limit"/> messages (fewer when the
/// entity's size budget for one reply is reached; <see cref="QueueListing.NextOffset"/> says where to go on).</summary>
public sealed record ListMessages([property: JsonPropertyName("domain")] QueueKey Queue, int Offset, int Limit) : IDomainQueueCommand;

/// <param name="Total">Messages with a pending recipient in this entity.</param>
/// <param name="NextOffset">The offset of the next page, or null when this page reaches the end.</param>
public sealed record QueueListing(string Domain, int Total, IReadOnlyList<QueuedMessageView> Messages, int? NextOffset) : IQueueMessage;

/// <summary>One queued message as an operator sees it.</summary>
public sealed record QueuedMessageView(
    string MessageId,
    string Sender,
    DateTimeOffset ArrivedAt,
    DateTimeOffset NextAttemptAt,
    IReadOnlyList<RecipientView> Recipients);

/// <param name="State"><c>pending</c> (waiting for its next attempt), <c>in-flight</c> (being delivered now), or <c>on-hold</c> (held by an operator until released).</param>
/// <param name="LastError">The last transient failure: the SMTP reply or the DNS/connection reason; null before any attempt.</param>
public sealed record RecipientView(string Address, string State, int Attempts, DateTimeOffset NextAttemptAt, string? LastError);

/// <summary>Makes every deferred recipient due now, once (the destination backoff included). Answered with
/// <see cref="QueueFlushAck"/> once the flush is persisted.</summary>
public sealed record FlushMessages([property: JsonPropertyName("domain")] QueueKey Queue) : IDomainQueueCommand;

/// <param name="Messages">Messages made due by the flush.</param>
public sealed record QueueFlushAck(string Domain, int Messages) : IQueueMessage;

/// <summary>Removes a message from the queue without delivery or bounce (postsuper -d). Answered with
/// <see cref="MessageAdminAck"/> once the removal is persisted.</summary>
public sealed record DeleteMessage([property: JsonPropertyName("domain")] QueueKey Queue, string MessageId) : IDomainQueueCommand;

/// <summary>Gives up on a message now: every pending recipient fails permanently and the sender gets the usual
/// RFC 3464 bounce (never for a null sender). Answered with <see cref="MessageAdminAck"/>.</summary>
public sealed record BounceMessage([property: JsonPropertyName("domain")] QueueKey Queue, string MessageId) : IDomainQueueCommand;

public enum MessageAdminOutcome
{
    /// <summary>Done and persisted.</summary>
    Done = 0,

    /// <summary>This entity does not hold the message.</summary>
    NotFound = 1,

    /// <summary>A delivery of the message is running; try again when it has finished.</summary>
    InFlight = 2,
}

public sealed record MessageAdminAck(string Domain, string MessageId, MessageAdminOutcome Outcome) : IQueueMessage;

/// <summary>Puts a message on hold in this entity (postsuper -h): never attempted, never expiring, until released.
/// Idempotent. A delivery already running finishes (its outcome is recorded); no new attempt starts. Answered with
/// <see cref="MessageHoldAck"/> once the hold is persisted.</summary>
public sealed record HoldMessage([property: JsonPropertyName("domain")] QueueKey Queue, string MessageId) : IDomainQueueCommand;

/// <summary>Releases a message from hold in this entity (postsuper -H). Idempotent. Answered with
/// <see cref="MessageHoldAck"/>.</summary>
public sealed record ReleaseMessage([property: JsonPropertyName("domain")] QueueKey Queue, string MessageId) : IDomainQueueCommand;

public enum HoldOutcome
{
    /// <summary>The entity does not hold the message (or nothing of it is pending delivery).</summary>
    NotFound = 0,

    /// <summary>Put on hold now (persisted).</summary>
    OnHold = 1,

    /// <summary>It was on hold already; nothing changed.</summary>
    AlreadyOnHold = 2,

    /// <summary>Released now (persisted).</summary>
    Released = 3,

    /// <summary>It was not on hold; nothing changed.</summary>
    NotOnHold = 4,
}

/// <param name="Domain">The entity that answered (a bucket id such as <c>gmail.com#2</c> for a split domain).</param>
/// <param name="InFlight">A delivery of the message was running when the hold was decided: that attempt finishes.</param>
public sealed record MessageHoldAck(string Domain, string MessageId, HoldOutcome Outcome, bool InFlight = false) : IQueueMessage;

/// <summary>Asks one node's <see cref="Buckets.BucketDirectory"/> which bucket entities of <paramref name="Domain"/>
/// (<c>domain#k</c>) run on that node, configured or not (a bucket left over from a higher bucket count still holds
/// mail). Answered with <see cref="BucketsFound"/>.</summary>
public sealed record FindBuckets(string Domain) : IQueueMessage;

/// <param name="Buckets">The bucket numbers k of the <c>domain#k</c> entities running on the node, ascending; at most
/// <see cref="Buckets.BucketDirectory.MaxBuckets"/> (a few kB, far under the remoting frame).</param>
/// <param name="Complete">False when a shard of the node did not answer in time, or the list was cut at the maximum.</param>
public sealed record BucketsFound(string Domain, IReadOnlyList<int> Buckets, bool Complete) : IQueueMessage;
