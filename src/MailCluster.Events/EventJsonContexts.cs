using System.Text.Json.Serialization;

namespace MailCluster.Events;

/// <summary>
/// The JSON contracts of the two records the events store writes for every message (<see cref="DeliveryEvent"/>, with
/// every field written, and <see cref="MessageContext"/>, nulls left out), generated at build time by System.Text.Json's
/// source generator with the options each has always used, so the stored shapes are unchanged and a fresh node does
/// not build them by reflection on its first message (docs/BENCHMARKS.md, session s37).
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(DeliveryEvent))]
internal sealed partial class DeliveryEventJsonContext : JsonSerializerContext;

/// <inheritdoc cref="DeliveryEventJsonContext"/>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MessageContext))]
internal sealed partial class MessageContextJsonContext : JsonSerializerContext;
