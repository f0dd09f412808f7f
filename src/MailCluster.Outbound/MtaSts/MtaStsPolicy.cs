using System.Globalization;

namespace MailCluster.Outbound.MtaSts;

/// <summary>RFC 8461 §5: what a sender does with a policy.</summary>
public enum MtaStsMode
{
    /// <summary>Deliver as without a policy.</summary>
    None,
    /// <summary>Deliver as without a policy, and report the failures (TLS-RPT, RFC 8460).</summary>
    Testing,
    /// <summary>Only MX hosts matching the policy, over TLS with a certificate valid for the MX name; else defer.</summary>
    Enforce,
}

/// <summary>A parsed MTA-STS policy (RFC 8461 §3.2); pure.</summary>
/// <param name="Mx">The "mx" patterns: a host name, or "*." and a domain (the wildcard stands for one left-most label).</param>
/// <param name="MaxAge">How long the policy may be cached (RFC 8461 §3.2: at most 31557600 seconds).</param>
/// <param name="Text">The policy body as fetched, for TLS-RPT's policy-string (RFC 8460 §4.4).</param>
public sealed record MtaStsPolicy(MtaStsMode Mode, IReadOnlyList<string> Mx, TimeSpan MaxAge, string Text)
{
    /// <summary>RFC 8461 §4.1: whether <paramref name="host"/> (an MX name) matches one of the "mx" patterns.
    /// Case-insensitive, trailing dots ignored; "*.example.com" matches "mx.example.com" only, not
    /// "example.com" nor "a.b.example.com".</summary>
    public bool AllowsMx(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        string name = host.TrimEnd('.');
        foreach (string pattern in Mx)
        {
            if (pattern.StartsWith("*.", StringComparison.Ordinal))
            {
                int dot = name.IndexOf('.', StringComparison.Ordinal);
                if (dot > 0 && string.Equals(name[(dot + 1)..], pattern[2..], StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
            else if (string.Equals(name, pattern, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The policy's fields one per line, as RFC 8460 §4.4 "policy-string" lists them.</summary>
    public IReadOnlyList<string> PolicyStrings =>
        [.. Text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0)];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"mode={Mode.ToString().ToLowerInvariant()} mx={string.Join(',', Mx)} max_age={(long)MaxAge.TotalSeconds}");
}
