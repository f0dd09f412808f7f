namespace MailCluster.Outbound.Dane;

/// <summary>The address lookup of an MX host for DANE: its DNSSEC status, and the fully CNAME-expanded name (the host
/// itself when it is no alias).</summary>
public sealed record AddressLookup(DnsSecurity Security, string ExpandedName);

/// <summary>
/// Where the TLSA records of an MX host are looked up when the host is a CNAME alias (RFC 7672 §2.2.2); pure.
/// With a secure chain, the fully expanded name is tried first and the original MX host name second; the original is
/// only consulted when the expanded name gives no secure records (securely absent, or insecure). A failed lookup at
/// the expanded name settles the matter (it is indeterminate: defer), as it would for an MX host without an alias.
/// Both names are reference identifiers for a DANE-TA certificate (RFC 7672 §3.2.2).
/// </summary>
public static class TlsaBaseDomain
{
    /// <summary>Follows <paramref name="aliases"/> (owner → target, as the answer lists them) from
    /// <paramref name="host"/> to its end; a loop or a chain longer than 8 ends where it was. Case-insensitive.</summary>
    public static string Expand(string host, IEnumerable<(string From, string To)> aliases)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(aliases);
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (from, to) in aliases)
        {
            map.TryAdd(from.TrimEnd('.'), to.TrimEnd('.'));
        }

        string name = host.TrimEnd('.');
        for (int hops = 0; hops < 8 && map.TryGetValue(name, out var next); hops++)
        {
            name = next;
        }

        return name;
    }

    /// <summary>The TLSA base domains to try, in order: the expanded name, then the original, or only the original
    /// when the host is no alias.</summary>
    public static IReadOnlyList<string> Candidates(string host, string expanded)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(expanded);
        string original = host.TrimEnd('.');
        string target = expanded.TrimEnd('.');
        return string.Equals(original, target, StringComparison.OrdinalIgnoreCase) ? [original] : [target, original];
    }

    /// <summary>Whether the answer at one base domain decides, so that the next candidate is not asked: secure records
    /// (usable or not), or a failure.</summary>
    public static bool Settles(TlsaLookup lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        return lookup.Security == DnsSecurity.Indeterminate || (lookup.Security == DnsSecurity.Secure && lookup.Records.Count > 0);
    }
}
