using System.Collections.Frozen;
using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Serialization;

/// <summary>
/// Serialises every <see cref="IQueueMessage"/> as UTF-8 JSON under a stable, hand-written manifest.
/// Akka's default serializer writes CLR type names, so a rename would break recovery of the journal
/// (PACKAGES.md); here a type can be renamed freely, and the manifest is the contract.
/// Manifests are never reused: a change of meaning gets a new one (".v2").
/// </summary>
public sealed class QueueSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Registered serializer id; ids below 100 are reserved by Akka.</summary>
    public const int Id = 7301;

    /// <summary>Web defaults, nulls left out; the contracts are generated at build time (<see cref="QueueJsonContext"/>).</summary>
    private static readonly JsonSerializerOptions Json = QueueJsonContext.Default.Options;

    private static readonly FrozenDictionary<Type, string> ManifestByType = new Dictionary<Type, string>
    {
        [typeof(Enqueue)] = "mc.queue.enqueue.v1",
        [typeof(EnqueueAck)] = "mc.queue.enqueue-ack.v1",
        [typeof(MessageCommitted)] = "mc.queue.committed.v1",
        [typeof(GetQueueStatus)] = "mc.queue.get-status.v1",
        [typeof(QueueStatus)] = "mc.queue.status.v1",
        [typeof(Enqueued)] = "mc.queue.enqueued.v1",
        [typeof(AttemptCompleted)] = "mc.queue.attempt-completed.v1",
        [typeof(MessageAbandoned)] = "mc.queue.abandoned.v1",
        [typeof(DomainQueueSnapshot)] = "mc.queue.snapshot.v1",
        [typeof(DsnQueued)] = "mc.queue.dsn-queued.v1",
        [typeof(QueueFlushed)] = "mc.queue.flushed.v1",
        [typeof(MessageDeleted)] = "mc.queue.deleted.v1",
        [typeof(ListMessages)] = "mc.queue.list.v1",
        [typeof(QueueListing)] = "mc.queue.listing.v1",
        [typeof(FlushMessages)] = "mc.queue.flush.v1",
        [typeof(QueueFlushAck)] = "mc.queue.flush-ack.v1",
        [typeof(DeleteMessage)] = "mc.queue.delete.v1",
        [typeof(BounceMessage)] = "mc.queue.bounce.v1",
        [typeof(MessageAdminAck)] = "mc.queue.message-admin-ack.v1",
        [typeof(WakeUp)] = "mc.queue.wake-up.v1",
        [typeof(FindBuckets)] = "mc.queue.find-buckets.v1",
        [typeof(BucketsFound)] = "mc.queue.buckets-found.v1",
        [typeof(Views.GetQueueSummary)] = "mc.queue.summarize.v1",
        [typeof(Views.QueueSummaryRow)] = "mc.queue.summary-row.v1",
        [typeof(Views.SummarizeQueues)] = "mc.queue.summarize-node.v1",
        [typeof(Views.QueueSummaries)] = "mc.queue.summaries.v1",
        [typeof(Views.InspectMessage)] = "mc.queue.inspect.v1",
        [typeof(Views.QueuedMessageDetail)] = "mc.queue.message-in-queue.v1",
        [typeof(Views.FindMessage)] = "mc.queue.find-message.v1",
        [typeof(Views.MessageFound)] = "mc.queue.message-found.v1",
        [typeof(FindHeldMessages)] = "mc.queue.find-held.v1",
        [typeof(HeldMessages)] = "mc.queue.held.v1",
        [typeof(MessageOnHold)] = "mc.queue.on-hold.v1",
        [typeof(MessageReleased)] = "mc.queue.released-from-hold.v1",
        [typeof(HoldMessage)] = "mc.queue.hold.v1",
        [typeof(ReleaseMessage)] = "mc.queue.release.v1",
        [typeof(MessageHoldAck)] = "mc.queue.hold-ack.v1",
        [typeof(Events.ReceptionDetails)] = "mc.queue.reception-details.v1",
        [typeof(Events.AttemptDetails)] = "mc.queue.attempt-details.v1",
    }.ToFrozenDictionary();

    /// <summary>Second versions of persisted events, for the same CLR type: the v1 shape plus an optional field, written
    /// only when that field is set (so a v1 row keeps its exact shape and an older release never meets a field it
    /// lacks under a manifest it knows). Both versions stay readable for ever.</summary>
    public const string EnqueuedWithDetails = "mc.queue.enqueued.v2";

    /// <inheritdoc cref="EnqueuedWithDetails"/>
    public const string AttemptWithDetails = "mc.queue.attempt-completed.v2";

    private static readonly FrozenDictionary<string, Type> TypeByManifest =
        ManifestByType.Select(kv => KeyValuePair.Create(kv.Value, kv.Key))
            .Append(KeyValuePair.Create(EnqueuedWithDetails, typeof(Enqueued)))
            .Append(KeyValuePair.Create(AttemptWithDetails, typeof(AttemptCompleted)))
            .ToFrozenDictionary(StringComparer.Ordinal);

    public override int Identifier => Id;

    /// <summary>All manifests, for the approved-shape test.</summary>
    public static IReadOnlyDictionary<Type, string> Manifests => ManifestByType;

    /// <summary>The type a manifest (either version) stands for; null for a manifest this release does not know.</summary>
    public static Type? TypeOf(string manifest) => TypeByManifest.GetValueOrDefault(manifest);

    public override string Manifest(object o)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (o is Enqueued { Details: not null })
        {
            return EnqueuedWithDetails;
        }

        if (o is AttemptCompleted { Details: not null })
        {
            return AttemptWithDetails;
        }

        return ManifestByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"{o.GetType()} has no manifest in {nameof(QueueSerializer)}.", nameof(o));
    }

    public override byte[] ToBinary(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return JsonSerializer.SerializeToUtf8Bytes(obj, Json.GetTypeInfo(obj.GetType()));
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!TypeByManifest.TryGetValue(manifest, out var type))
        {
            throw new SerializationException($"Unknown manifest '{manifest}' for {nameof(QueueSerializer)}.");
        }

        return JsonSerializer.Deserialize(bytes, Json.GetTypeInfo(type))
            ?? throw new SerializationException($"Null payload for manifest '{manifest}'.");
    }
}
