using System.Collections.Frozen;
using System.Text;

namespace MailCluster.Queue.Buckets;

/// <summary>
/// Hot domains split over N domain-queue entities (DESIGN invariant 3): a configured domain's mail goes to
/// entity <c>domain#k</c> (<see cref="QueueKey"/>), k in 0..N-1, chosen per message from a stable hash of the message
/// id, so every recipient of one message in that domain stays in one bucket (one Enqueued event, one delivery run, one
/// spool reference). The acceptor chooses, once, and the key travels in the Enqueue and MessageCommitted it sends;
/// nothing on the way rewrites it. Every node should still have the same configuration (the queue API and the orphan
/// sweep list the configured buckets). Changing N later only moves new mail; queued mail stays in the bucket entities
/// it was written to, which keep delivering (they are remembered entities).
/// </summary>
public sealed class DomainBuckets
{
    public const char Separator = QueueKey.Separator;

    public static readonly DomainBuckets None = new(new Dictionary<string, int>());

    private readonly FrozenDictionary<string, int> _counts;

    /// <param name="counts">Normalised domain → number of buckets (1 means not split).</param>
    public DomainBuckets(IReadOnlyDictionary<string, int> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        _counts = counts.Where(kv => kv.Value > 1).ToFrozenDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    public int CountOf(string domain) => _counts.TryGetValue(domain, out var n) ? n : 1;

    /// <summary>The queue of <paramref name="messageId"/>'s recipients in <paramref name="domain"/>: the domain itself,
    /// or its bucket k (from a stable hash of the message id) when the domain is split.</summary>
    public QueueKey KeyFor(string domain, string messageId)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(messageId);
        return _counts.TryGetValue(domain, out var n) ? new QueueKey(domain, (int)(StableHash(messageId) % (uint)n)) : new QueueKey(domain);
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
