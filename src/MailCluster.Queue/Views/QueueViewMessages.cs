using System.Text.Json.Serialization;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Views;

// The cluster-wide view of the queues (issue 14): what one entity tells about itself, and what one node's
// QueueViewDirectory gathers from the entities it hosts. They cross nodes: each has a manifest in QueueSerializer, and
// every reply is bounded well under the remoting frame size (128 kB).

/// <summary>Asks one domain-queue entity for its <see cref="QueueSummaryRow"/>. Read only; never persisted.</summary>
public sealed record GetQueueSummary([property: JsonPropertyName("domain")] QueueKey Queue) : IDomainQueueCommand;

/// <summary>One entity (a domain queue, or a bucket of a split one) as an operator sees it.</summary>
/// <param name="Queue">The entity id (<c>domain</c> or <c>domain#k</c>).</param>
/// <param name="Messages">Messages in the entity (pending recipients or DSN lines still to queue).</param>
/// <param name="Pending">Recipients not tried yet (waiting for their first attempt, or being delivered now).</param>
/// <param name="Deferred">Recipients tried at least once and waiting for their next attempt.</param>
/// <param name="Held">Messages on hold. Filled by the hold feature (issue 14); 0 where the state knows no hold.</param>
/// <param name="InFlight">Messages being delivered now.</param>
/// <param name="OldestArrivedAt">Arrival of the oldest message; null for an empty queue.</param>
/// <param name="LastReply">The most recent transient reply recorded for a recipient still queued (the state keeps the
/// last error per deferred recipient, not delivered replies); null when none.</param>
/// <param name="SuspendedUntil">End of the domain's suspension. Filled by the suspension feature; null otherwise.</param>
/// <param name="Node">The node hosting the entity, set by the node's <see cref="QueueViewDirectory"/>.</param>
public sealed record QueueSummaryRow(
    string Queue,
    string Domain,
    int Messages,
    int Pending,
    int Deferred,
    int Held,
    int InFlight,
    DateTimeOffset? OldestArrivedAt,
    string? LastReply,
    DateTimeOffset? SuspendedUntil,
    string? SuspensionReason,
    string? Node) : IQueueMessage;

/// <summary>Asks one node's <see cref="QueueViewDirectory"/> for the summaries of the entities it hosts, in
/// <paramref name="Sort"/> order, after <paramref name="After"/> (keyset paging, so a reply never grows with the page
/// number), at most <paramref name="Limit"/> rows.</summary>
/// <param name="Domain">Only the entities of this normalised domain (all its buckets); null for every entity.</param>
public sealed record SummarizeQueues(string? Domain, QueueSort Sort, bool Descending, QueueSummaryCursor? After, int Limit) : IQueueMessage;

/// <param name="Rows">At most the asked limit, in the asked order.</param>
/// <param name="Total">Entities on the node matching the domain filter (whatever the cursor).</param>
/// <param name="Complete">False when an entity or a shard of the node did not answer in time.</param>
public sealed record QueueSummaries(string Node, IReadOnlyList<QueueSummaryRow> Rows, int Total, int Pending, int Deferred, int Held, bool Complete) : IQueueMessage;

/// <summary>Asks one entity about one message. Answered with <see cref="QueuedMessageDetail"/>.</summary>
public sealed record InspectMessage([property: JsonPropertyName("domain")] QueueKey Queue, string MessageId) : IDomainQueueCommand;

/// <param name="Found">False when the entity does not hold the message (the other fields are then empty).</param>
/// <param name="Reports">DSN lines still to be queued to the sender (recipients already final).</param>
public sealed record QueuedMessageDetail(
    string Queue,
    string MessageId,
    bool Found,
    string Sender,
    DateTimeOffset ArrivedAt,
    IReadOnlyList<RecipientDetail> Recipients,
    IReadOnlyList<RecipientDetail> Reports,
    string? Node) : IQueueMessage;

/// <param name="State"><c>pending</c>, <c>in-flight</c>, <c>deferred</c> or <c>held</c> for a queued recipient; for a
/// DSN line its action (<c>failed</c>, <c>delayed</c>, <c>delivered</c>, <c>relayed</c>).</param>
/// <param name="LastReply">The last reply: the transient error of a deferred recipient, the final reply of a DSN line.</param>
/// <param name="NextAttemptAt">Null for a DSN line.</param>
public sealed record RecipientDetail(string Address, string State, int Attempts, string? LastReply, DateTimeOffset? NextAttemptAt);

/// <summary>Asks one node's <see cref="QueueViewDirectory"/> which of its entities hold <paramref name="MessageId"/>.</summary>
public sealed record FindMessage(string MessageId) : IQueueMessage;

/// <param name="Queues">The entities of the node holding the message (a message with recipients in several domains is
/// in several queues, possibly on several nodes).</param>
public sealed record MessageFound(string Node, IReadOnlyList<QueuedMessageDetail> Queues, bool Complete) : IQueueMessage;

/// <summary>The sort orders of the queue summary.</summary>
public enum QueueSort
{
    /// <summary>By the arrival of the oldest message (oldest first by default).</summary>
    Oldest = 0,

    /// <summary>By pending recipients (most first by default).</summary>
    Pending = 1,

    /// <summary>By deferred recipients (most first by default).</summary>
    Deferred = 2,

    /// <summary>By entity id (alphabetical by default).</summary>
    Domain = 3,
}

/// <summary>Where a summary page goes on: the sort key and entity id of the previous page's last row.</summary>
public sealed record QueueSummaryCursor(long Key, string Queue);
