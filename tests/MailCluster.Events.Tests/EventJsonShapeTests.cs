using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Xunit;

namespace MailCluster.Events.Tests;

/// <summary>
/// The events store's two JSON records are a storage format. Their contracts are generated at build time; these
/// tests hold the generated writer to the bytes the reflection-based serializer (every release before s37) wrote for
/// the same record, with every field set and with the optional ones unset, and read those bytes back.
/// </summary>
public sealed class EventJsonShapeTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 8, 3, 0, 0, TimeSpan.FromHours(1));

    private static readonly DeliveryEvent Full = new()
    {
        EventId = "e-1", Type = EventTypes.Bounce, QueueId = "Q1", MessageId = "<m@example.org>", Sender = "s@example.org",
        Recipient = "r@example.com", Domain = "example.com", Size = 1234, Response = new EventResponse(550, "5.1.1", "no such user \"x\" <é>"),
        Peer = new EventPeer("mx.example.com", "127.0.0.9"), Attempt = 2, Timestamp = At, Created = At.AddMinutes(-5),
        Tls = new EventTls("TLSv1.3", "TLS_AES_256_GCM_SHA384"), BounceClassification = "InvalidRecipient", Node = "node-a:4053",
        Credential = "alice", Meta = new Dictionary<string, string> { ["campaign"] = "c7", ["ünï"] = "</script>" },
    };

    private static readonly MessageContext FullContext = new()
    {
        QueueId = "Q1", Sender = "s@example.org", Created = At, HeaderMessageId = "<m@example.org>", Size = 1234, Credential = "alice",
        Meta = new Dictionary<string, string> { ["campaign"] = "c7" }, Client = new EventPeer("client.example.org", "127.0.0.8"),
        ClientTls = new EventTls("TLSv1.3", null), ReceptionNode = "node-a:4053", AttemptPeer = new EventPeer(null, "127.0.0.9"),
        AttemptTls = null, AttemptNode = "node-b:4053", Attempts = new Dictionary<string, int> { ["r@example.com"] = 2 }, Pending = ["r@example.com"],
    };

    public static TheoryData<DeliveryEvent> Events => new()
    {
        Full,
        new DeliveryEvent { EventId = "e-2", Type = EventTypes.Reception, Recipient = "r@example.com", Timestamp = At },
    };

    public static TheoryData<MessageContext> Contexts => new()
    {
        FullContext,
        new MessageContext { QueueId = "Q2" },
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void A_delivery_event_is_written_as_the_reflection_serializer_wrote_it(DeliveryEvent e)
    {
        var previous = JsonSerializer.Serialize(e, Reflection(JsonIgnoreCondition.Never));
        Assert.Equal(previous, e.ToJson());
        Assert.Equal(previous, DeliveryEvent.FromJson(previous)!.ToJson());
    }

    [Theory]
    [MemberData(nameof(Contexts))]
    public void A_message_context_is_written_as_the_reflection_serializer_wrote_it(MessageContext context)
    {
        var previous = JsonSerializer.Serialize(context, Reflection(JsonIgnoreCondition.WhenWritingNull));
        Assert.Equal(previous, context.ToJson());
        Assert.Equal(previous, MessageContext.FromJson(previous).ToJson());
    }

    private static JsonSerializerOptions Reflection(JsonIgnoreCondition ignore) =>
        new() { DefaultIgnoreCondition = ignore, TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
}
