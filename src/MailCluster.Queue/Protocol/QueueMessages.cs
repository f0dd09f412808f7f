using System.Text.Json.Serialization;

namespace MailCluster.Queue.Protocol;

/// <summary>Marker for every message, event and snapshot of the queue; all are serialised by
/// <see cref="Serialization.QueueSerializer"/> with stable manifests.</summary>
public interface IQueueMessage;

/// <summary>A message routed by the domain-queue shard region to the entity of <see cref="Queue"/>, as it was sent:
/// the sender names the bucket (the acceptor chooses it, <see cref="Buckets.DomainBuckets.KeyFor"/>), and nothing on
/// the way rewrites it. On the wire the key is the JSON property <c>domain</c> holding the entity id, the shape these
/// messages had when they carried the id as a string.</summary>
public interface IDomainQueueCommand : IQueueMessage
{
    /// <summary>The entity: the normalised recipient domain and its bucket, if split (DESIGN invariant 3).</summary>
    QueueKey Queue { get; }
}

/// <summary>Queue <paramref name="Recipients"/> (all in the key's domain) of a spooled message.
/// Answered with <see cref="EnqueueAck"/> once the Enqueued event is durable.</summary>
public sealed record Enqueue(
    [property: JsonPropertyName("domain")] QueueKey Queue,
    string MessageId,
    string Sender,
    IReadOnlyList<string> Recipients,
    DateTimeOffset ArrivedAt,
    DsnEnvelope? Dsn = null) : IDomainQueueCommand
{
    /// <summary>The delivery events' record of the acceptance (issue 16), persisted before the Enqueued event; null
    /// (and absent from the JSON) from senders that have none, such as nodes of an older release.</summary>
    public Events.ReceptionDetails? Details { get; init; }
}

public sealed record EnqueueAck(string Domain, string MessageId) : IQueueMessage;

/// <summary>The spool body of <paramref name="MessageId"/> is committed: deliver now. Not persisted; a lost
/// nudge only delays the first attempt until the commit wait runs out.</summary>
public sealed record MessageCommitted([property: JsonPropertyName("domain")] QueueKey Queue, string MessageId) : IDomainQueueCommand;

/// <summary>Asks a domain queue for its pending messages (ops and tests).</summary>
public sealed record GetQueueStatus([property: JsonPropertyName("domain")] QueueKey Queue) : IDomainQueueCommand;

public sealed record QueueStatus(string Domain, int Messages, int Recipients, int InFlight) : IQueueMessage
{
    /// <summary>Messages an operator holds in this entity (<see cref="State.DomainQueueState.OnHoldCount"/>).</summary>
    public int OnHold { get; init; }

    /// <summary>The destination domain's active suspension, as this entity's node last read it; null when none.</summary>
    public SuspensionView? Suspension { get; init; }
}

/// <summary>An operator's suspension of a destination domain, as a queue sees it (see <see cref="Suspensions.SuspensionSet"/>).</summary>
public sealed record SuspensionView(DateTimeOffset Until, string Reason);

/// <summary>Starts the domain queue if it is not running; does nothing else. A queue that passivated while mail
/// arrived sends it to itself through the region (see DomainQueueActor.AfterChange).</summary>
public sealed record WakeUp([property: JsonPropertyName("domain")] QueueKey Queue) : IDomainQueueCommand;

/// <summary>Which of <paramref name="MessageIds"/> does this entity still hold (queued, being delivered, or with a DSN
/// still to send)? Asked by the orphan spool sweep before it releases a reference; answered with
/// <see cref="HeldMessages"/> from the entity's state, after its recovery, so a "no" means the queue is done with the
/// message for good. Crosses nodes: keep the id list within the remoting frame (the sweep sends ≤ 32 kB of ids).</summary>
public sealed record FindHeldMessages([property: JsonPropertyName("domain")] QueueKey Queue, IReadOnlyList<string> MessageIds) : IDomainQueueCommand;

/// <param name="Domain">The entity that answered (a bucket id such as <c>gmail.com#2</c> for a split domain).</param>
/// <param name="MessageIds">The asked ids this entity holds; the others it does not.</param>
public sealed record HeldMessages(string Domain, IReadOnlyList<string> MessageIds) : IQueueMessage;
