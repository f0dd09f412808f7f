using System.Text.Json;
using System.Text.Json.Serialization;

namespace MailCluster.Events;

/// <summary>
/// What the projection remembers of a message between its journal events (table <c>mc_event_message</c>, JSON): the
/// envelope and acceptance details for every later event of the message, the details of the attempt about to be
/// recorded, and each recipient's attempt count. Written in the same transaction as the events it produced.
/// </summary>
public sealed record MessageContext
{
    public required string QueueId { get; init; }

    public string? Sender { get; init; }

    public DateTimeOffset? Created { get; init; }

    public string? HeaderMessageId { get; init; }

    public long? Size { get; init; }

    public string? Credential { get; init; }

    public IReadOnlyDictionary<string, string>? Meta { get; init; }

    public EventPeer? Client { get; init; }

    public EventTls? ClientTls { get; init; }

    public string? ReceptionNode { get; init; }

    /// <summary>The next hop of the attempt persisted next (its <c>AttemptDetails</c>), consumed by its outcome.</summary>
    public EventPeer? AttemptPeer { get; init; }

    public EventTls? AttemptTls { get; init; }

    public string? AttemptNode { get; init; }

    public IReadOnlyDictionary<string, int> Attempts { get; init; } = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The recipients still without a final outcome (delivered, bounced, expired): each Enqueued adds its
    /// recipients, each outcome removes the final ones. When an outcome leaves none, the message is finished and its
    /// context is deleted with those events (<see cref="EventProjection"/>). Null in contexts written by releases before
    /// it: such a message is not tracked, and its context goes by age (<see cref="EventStore.PruneAsync"/>).</summary>
    public IReadOnlyList<string>? Pending { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, MessageContextJsonContext.Default.MessageContext);

    public static MessageContext FromJson(string json) =>
        JsonSerializer.Deserialize(json, MessageContextJsonContext.Default.MessageContext) ?? throw new JsonException("null message context");
}
