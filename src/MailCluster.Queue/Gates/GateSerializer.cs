using System.Collections.Frozen;
using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace MailCluster.Queue.Gates;

/// <summary>The gate messages as UTF-8 JSON under stable manifests (they cross nodes; nothing is persisted).</summary>
public sealed class GateSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 7330;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly FrozenDictionary<Type, string> ManifestByType = new Dictionary<Type, string>
    {
        [typeof(GateAcquire)] = "mc.gate.acquire.v1",
        [typeof(GateGranted)] = "mc.gate.granted.v1",
        [typeof(GateRelease)] = "mc.gate.release.v1",
        [typeof(GateRenew)] = "mc.gate.renew.v1",
        [typeof(GateCensus)] = "mc.gate.census.v1",
        [typeof(GateTakeStarts)] = "mc.gate.take-starts.v1",
        [typeof(GateStarts)] = "mc.gate.starts.v1",
        [typeof(GateRecentStarts)] = "mc.gate.recent-starts.v1",
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<string, Type> TypeByManifest =
        ManifestByType.ToFrozenDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);

    public override int Identifier => Id;

    public override string Manifest(object o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return ManifestByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"{o.GetType()} has no manifest in {nameof(GateSerializer)}.", nameof(o));
    }

    public override byte[] ToBinary(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);
    }

    public override object FromBinary(byte[] bytes, string manifest) =>
        (TypeByManifest.TryGetValue(manifest, out var type) ? JsonSerializer.Deserialize(bytes, type, Json) : null)
        ?? throw new SerializationException($"Unknown manifest or null payload '{manifest}' for {nameof(GateSerializer)}.");
}
