using System.Collections.Frozen;

namespace MailCluster.Queue.Suppression;

/// <summary>
/// An immutable snapshot of the suppression table, indexed for the RCPT check: a lookup is two dictionary probes
/// (the global entry, then the credential's), no allocation, no I/O. Expired entries stay until the next refresh
/// but never match.
/// </summary>
public sealed class SuppressionSet
{
    public static readonly SuppressionSet Empty = new([]);

    private readonly FrozenDictionary<string, SuppressionEntry> _global;
    private readonly FrozenDictionary<(string Credential, string Address), SuppressionEntry> _perCredential;

    public SuppressionSet(IEnumerable<SuppressionEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var list = entries.ToList();
        Count = list.Count;
        _global = list.Where(e => e.Credential is null)
            .GroupBy(e => e.Address, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.MaxBy(e => e.ExpiresAt)!, StringComparer.Ordinal);
        _perCredential = list.Where(e => e.Credential is not null)
            .GroupBy(e => (e.Credential!, e.Address))
            .ToFrozenDictionary(g => g.Key, g => g.MaxBy(e => e.ExpiresAt)!);
    }

    public int Count { get; }

    /// <summary>The entry that suppresses <paramref name="address"/> for <paramref name="credential"/> at
    /// <paramref name="now"/>: a global one first, else the credential's own; null when none is in force.</summary>
    public SuppressionEntry? Find(string address, string? credential, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(address);
        var key = SuppressionEntry.Normalize(address);
        if (_global.TryGetValue(key, out var global) && global.IsActive(now))
        {
            return global;
        }

        return credential is not null && _perCredential.TryGetValue((credential, key), out var own) && own.IsActive(now) ? own : null;
    }
}
