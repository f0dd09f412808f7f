using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MailCluster.Queue;

/// <summary>
/// The key of one domain-queue entity (DESIGN invariant 3): a normalised recipient domain (<see cref="DomainKey"/>)
/// and, for a hot domain split by configuration (<see cref="Buckets.DomainBuckets"/>), the bucket k that holds this part
/// of its mail. Everything that acts for the destination (its spool references, its route, its shaping) uses
/// <see cref="Domain"/>; only routing and persistence use the bucket.
/// <para>Its text form, <see cref="EntityId"/>, is a storage format and must stay byte-identical: <c>gmail.com</c> or
/// <c>gmail.com#2</c> is the shard region's entity id (remember-entities stores it, and the shard is its hash), and
/// <c>dq-</c> + it is the journal's persistence id. <see cref="Parse"/> reads every id ever written:
/// <c>Parse(id).EntityId == id</c> for any string.</para>
/// </summary>
[JsonConverter(typeof(QueueKeyJsonConverter))]
public sealed record QueueKey
{
    public const char Separator = '#';

    /// <summary>Bucket numbers are at most 9 digits (the configured count is far lower).</summary>
    private const int MaxBucketDigits = 9;

    /// <param name="domain">The normalised domain (not checked here: ids of every age must parse).</param>
    /// <param name="bucket">The bucket number, or null for a domain that is not split.</param>
    public QueueKey(string domain, int? bucket = null)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentOutOfRangeException.ThrowIfNegative(bucket ?? 0, nameof(bucket));
        Domain = domain;
        Bucket = bucket;
        EntityId = bucket is { } k ? domain + Separator + k.ToString(CultureInfo.InvariantCulture) : domain;
    }

    public string Domain { get; }

    public int? Bucket { get; }

    /// <summary>The entity id: <c>domain</c>, or <c>domain#k</c>.</summary>
    public string EntityId { get; }

    /// <summary>The journal's persistence id of the entity's events and snapshots.</summary>
    public string PersistenceId => "dq-" + EntityId;

    /// <summary>An entity id routed as the key it names (admin requests and the sweep address entities by id).</summary>
    public static implicit operator QueueKey(string entityId) => Parse(entityId);

    /// <summary>Reads an entity id: <c>domain#k</c> when it ends in <c>#</c> and a canonical number (no leading zero,
    /// at most 9 digits) after a non-empty domain, else the whole id is the domain. Never fails.</summary>
    public static QueueKey Parse(string entityId)
    {
        ArgumentNullException.ThrowIfNull(entityId);
        var hash = entityId.LastIndexOf(Separator);
        var digits = hash > 0 ? entityId.AsSpan(hash + 1) : [];
        return digits.Length is > 0 and <= MaxBucketDigits
            && digits.IndexOfAnyExceptInRange('0', '9') < 0
            && (digits[0] != '0' || digits.Length == 1)
            ? new QueueKey(entityId[..hash], int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture))
            : new QueueKey(entityId);
    }

    public override string ToString() => EntityId;

    public bool Equals(QueueKey? other) => other is not null && string.Equals(EntityId, other.EntityId, StringComparison.Ordinal);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(EntityId);
}

/// <summary>A key travels as its entity id, so messages that carry one keep the JSON shape they had when they carried
/// the id as a string (<c>"domain":"gmail.com#2"</c>): nodes of both versions read each other during an upgrade.</summary>
public sealed class QueueKeyJsonConverter : JsonConverter<QueueKey>
{
    public override QueueKey Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        QueueKey.Parse(reader.GetString() ?? throw new JsonException("A queue key must be a string."));

    public override void Write(Utf8JsonWriter writer, QueueKey value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStringValue(value.EntityId);
    }
}
