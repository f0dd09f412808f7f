using System.Text.Json;
using System.Text.Json.Serialization;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Serialization;

/// <summary>
/// The JSON contract of every <see cref="QueueSerializer"/> type, generated at build time (System.Text.Json's source
/// generator) with the options the serializer has always used: web defaults (camelCase names, case-insensitive reads,
/// numbers readable from strings) and null properties left out. Same bytes as the reflection-based serializer wrote
/// (the approved shapes in QueueSerializerTests), without building each type's contract by reflection and emitting
/// its accessors on first use: a fresh node's first message compiled ~300 methods of System.Text.Json's reflection
/// path (docs/BENCHMARKS.md, session s37), and the generated code is precompiled with the assembly (ReadyToRun).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Enqueue))]
[JsonSerializable(typeof(EnqueueAck))]
[JsonSerializable(typeof(MessageCommitted))]
[JsonSerializable(typeof(GetQueueStatus))]
[JsonSerializable(typeof(QueueStatus))]
[JsonSerializable(typeof(Enqueued))]
[JsonSerializable(typeof(AttemptCompleted))]
[JsonSerializable(typeof(MessageAbandoned))]
[JsonSerializable(typeof(DomainQueueSnapshot))]
[JsonSerializable(typeof(DsnQueued))]
[JsonSerializable(typeof(QueueFlushed))]
[JsonSerializable(typeof(MessageDeleted))]
[JsonSerializable(typeof(ListMessages))]
[JsonSerializable(typeof(QueueListing))]
[JsonSerializable(typeof(FlushMessages))]
[JsonSerializable(typeof(QueueFlushAck))]
[JsonSerializable(typeof(DeleteMessage))]
[JsonSerializable(typeof(BounceMessage))]
[JsonSerializable(typeof(MessageAdminAck))]
[JsonSerializable(typeof(WakeUp))]
[JsonSerializable(typeof(FindBuckets))]
[JsonSerializable(typeof(BucketsFound))]
[JsonSerializable(typeof(Views.GetQueueSummary))]
[JsonSerializable(typeof(Views.QueueSummaryRow))]
[JsonSerializable(typeof(Views.SummarizeQueues))]
[JsonSerializable(typeof(Views.QueueSummaries))]
[JsonSerializable(typeof(Views.InspectMessage))]
[JsonSerializable(typeof(Views.QueuedMessageDetail))]
[JsonSerializable(typeof(Views.FindMessage))]
[JsonSerializable(typeof(Views.MessageFound))]
[JsonSerializable(typeof(FindHeldMessages))]
[JsonSerializable(typeof(HeldMessages))]
[JsonSerializable(typeof(MessageOnHold))]
[JsonSerializable(typeof(MessageReleased))]
[JsonSerializable(typeof(HoldMessage))]
[JsonSerializable(typeof(ReleaseMessage))]
[JsonSerializable(typeof(MessageHoldAck))]
[JsonSerializable(typeof(Events.ReceptionDetails))]
[JsonSerializable(typeof(Events.AttemptDetails))]
internal sealed partial class QueueJsonContext : JsonSerializerContext;
