using System.Text.Json;
using System.Text.Json.Serialization;

namespace MailCluster.Events;

/// <summary>
/// One delivery event for one recipient, with exactly the field names (issue 16; KumoMTA's log record as the
/// anchor). Every field is written, null when unknown, so a consumer sees one shape. <c>timestamp</c> is when the event
/// happened, <c>created</c> when the message arrived. The store adds <c>offset</c> (its cluster-wide order) when it
/// serves a record (<see cref="EventStore"/>).
/// </summary>
public sealed record DeliveryEvent
{
    [JsonPropertyName("event_id")] public required string EventId { get; init; }

    [JsonPropertyName("type")] public required string Type { get; init; }

    /// <summary>The queue id; null for Suppressed (nothing was queued for the recipient).</summary>
    [JsonPropertyName("queue_id")] public string? QueueId { get; init; }

    /// <summary>The Message-ID header field's value.</summary>
    [JsonPropertyName("message_id")] public string? MessageId { get; init; }

    [JsonPropertyName("sender")] public string? Sender { get; init; }

    [JsonPropertyName("recipient")] public required string Recipient { get; init; }

    [JsonPropertyName("domain")] public string? Domain { get; init; }

    [JsonPropertyName("size")] public long? Size { get; init; }

    [JsonPropertyName("response")] public EventResponse? Response { get; init; }

    [JsonPropertyName("peer")] public EventPeer? Peer { get; init; }

    [JsonPropertyName("attempt")] public int? Attempt { get; init; }

    [JsonPropertyName("timestamp")] public required DateTimeOffset Timestamp { get; init; }

    [JsonPropertyName("created")] public DateTimeOffset? Created { get; init; }

    [JsonPropertyName("tls")] public EventTls? Tls { get; init; }

    [JsonPropertyName("bounce_classification")] public string? BounceClassification { get; init; }

    [JsonPropertyName("node")] public string? Node { get; init; }

    [JsonPropertyName("credential")] public string? Credential { get; init; }

    [JsonPropertyName("meta")] public IReadOnlyDictionary<string, string>? Meta { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, DeliveryEventJsonContext.Default.DeliveryEvent);

    public static DeliveryEvent? FromJson(string json) => JsonSerializer.Deserialize(json, DeliveryEventJsonContext.Default.DeliveryEvent);
}

public sealed record EventResponse(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("enhanced_code")] string? EnhancedCode,
    [property: JsonPropertyName("text")] string? Text);

public sealed record EventPeer(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("address")] string? Address);

public sealed record EventTls(
    [property: JsonPropertyName("protocol")] string? Protocol,
    [property: JsonPropertyName("cipher")] string? Cipher);

/// <summary>The event types (issue 16).</summary>
public static class EventTypes
{
    public const string Reception = "Reception";
    public const string Delivery = "Delivery";
    public const string TransientFailure = "TransientFailure";
    public const string Bounce = "Bounce";
    public const string Expiration = "Expiration";
    public const string AdminBounce = "AdminBounce";
    public const string Delayed = "Delayed";
    public const string Suppressed = "Suppressed";

    public static readonly IReadOnlyList<string> All = [Reception, Delivery, TransientFailure, Bounce, Expiration, AdminBounce, Delayed, Suppressed];

    /// <summary>The type's canonical spelling, matched case-insensitively; null when unknown.</summary>
    public static string? Parse(string? text) => All.FirstOrDefault(t => string.Equals(t, text?.Trim(), StringComparison.OrdinalIgnoreCase));
}
