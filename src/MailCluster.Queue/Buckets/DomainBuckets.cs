using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace MailCluster.Queue.Buckets;

/// <summary>
/// Hot domains split over N domain-queue entities (DESIGN invariant 3): a configured domain's mail goes to
/// entity <c>domain#k</c>, k in 0..N-1, chosen per message from a stable hash of the message id, so every
/// recipient of one message in that domain stays in one bucket (one Enqueued event, one delivery run, one
/// spool reference). Every node must have the same configuration: the choice is made where the command is
/// routed and again where the entity lives. Changing N later only moves new mail; queued mail stays in the
/// bucket entities it was written to, which keep delivering (they are remembered entities).
/// </summary>
public sealed class DomainBuckets
{
    public const char Separator = '#';

    public static readonly DomainBuckets None = new(new Dictionary<string, int>());

    private readonly FrozenDictionary<string, int> _counts;

    /// <param name="counts">Normalised domain → number of buckets (1 means not split).</param>
    public DomainBuckets(IReadOnlyDictionary<string, int> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        _counts = counts.Where(kv => kv.Value > 1).ToFrozenDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    public int CountOf(string domain) => _counts.TryGetValue(domain, out var n) ? n : 1;

    /// <summary>The entity id for <paramref name="messageId"/>'s recipients in <paramref name="domain"/>: the domain
    /// itself, or <c>domain#k</c> when the domain is split. Ids that already name a bucket are kept.</summary>
    public string EntityFor(string domain, string messageId)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(messageId);
        if (!_counts.TryGetValue(domain, out var n))
        {
            return domain;
        }

        var bucket = StableHash(messageId) % (uint)n;
        return domain + Separator + bucket.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The destination domain of an entity id: <c>gmail.com#3</c> → <c>gmail.com</c>.</summary>
    public static string DomainOf(string entityId)
    {
        ArgumentNullException.ThrowIfNull(entityId);
        var hash = entityId.LastIndexOf(Separator);
        return hash > 0 && hash < entityId.Length - 1 && entityId.AsSpan(hash + 1).IndexOfAnyExceptInRange('0', '9') < 0
            ? entityId[..hash]
            : entityId;
    }

    /// <summary>The bucket number k when <paramref name="entityId"/> is <c>domain#k</c> of <paramref name="domain"/>
    /// (whatever the configured count is now), else null.</summary>
    public static int? BucketOf(string entityId, string domain)
    {
        ArgumentNullException.ThrowIfNull(entityId);
        ArgumentNullException.ThrowIfNull(domain);
        var suffix = entityId.Length > domain.Length + 1 && entityId.StartsWith(domain, StringComparison.Ordinal) && entityId[domain.Length] == Separator
            ? entityId.AsSpan(domain.Length + 1)
            : [];
        return suffix.Length is > 0 and <= 9 && suffix.IndexOfAnyExceptInRange('0', '9') < 0
            ? int.Parse(suffix, NumberStyles.None, CultureInfo.InvariantCulture)
            : null;
    }

    /// <summary>FNV-1a over the UTF-8 bytes: the same on every node and every run (string.GetHashCode is not).</summary>
    internal static uint StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash;
    }
}
