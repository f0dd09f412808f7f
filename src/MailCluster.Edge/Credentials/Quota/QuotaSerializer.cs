using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace MailCluster.Edge.Credentials.Quota;

/// <summary>The quota messages as UTF-8 JSON under stable manifests (they cross nodes; nothing is persisted).</summary>
public sealed class QuotaSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 7320;

    private const string Consume = "mc.quota.consume.v1";
    private const string Reply = "mc.quota.reply.v1";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        ConsumeQuota => Consume,
        QuotaReply => Reply,
        _ => throw new ArgumentException($"{o?.GetType()} has no manifest in {nameof(QuotaSerializer)}.", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);
    }

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        Consume => JsonSerializer.Deserialize<ConsumeQuota>(bytes, Json),
        Reply => (object?)JsonSerializer.Deserialize<QuotaReply>(bytes, Json),
        _ => null,
    } ?? throw new SerializationException($"Unknown manifest or null payload '{manifest}' for {nameof(QuotaSerializer)}.");
}
