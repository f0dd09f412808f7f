using MailCluster.Queue;

namespace MailCluster.Edge.Auth;

/// <summary>
/// Which MAIL FROM addresses an authenticated user may use (RFC 6409 §6.1: a submission server may check the
/// sender against the authenticated identity). Pure. Each entry of <see cref="SmtpUser.AllowedSenders"/> is
/// <list type="bullet">
/// <item><c>user@example.com</c>: exactly that address. The domain is compared IDNA- and case-normalised
/// (<see cref="DomainKey"/>); the local part is compared case-SENSITIVELY, because RFC 5321 §2.4 leaves its
/// meaning to the receiving host and a case-folding host could not be told apart from one that is not.</item>
/// <item><c>example.com</c> or <c>@example.com</c>: any address in that domain (not its subdomains).</item>
/// </list>
/// An empty list allows nothing. The null reverse-path (<c>&lt;&gt;</c>, RFC 5321 §4.5.5) is never allowed:
/// it is for bounces, which an authenticated client has no business originating.
/// </summary>
public static class SenderAuthorization
{
    /// <param name="senderAddress">The reverse-path as <c>local@domain</c> (<c>SmtpPath.Address</c>);
    /// <c>""</c> or <c>"&lt;&gt;"</c> for the null path. Surrounding angle brackets are tolerated.</param>
    public static bool IsAllowed(SmtpUser user, string senderAddress)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(senderAddress);
        if (!TrySplit(Unbracket(senderAddress), out var local, out var domain))
        {
            return false;
        }

        foreach (var entry in user.AllowedSenders)
        {
            if (TryParseEntry(entry, out var allowedLocal, out var allowedDomain)
                && allowedDomain == domain
                && (allowedLocal is null || string.Equals(allowedLocal, local, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="entry"/> is an address or a domain as described on the class.</summary>
    public static bool IsValidEntry(string? entry) => TryParseEntry(entry, out _, out _);

    /// <summary>Splits an entry; <paramref name="local"/> is null for a whole-domain entry.</summary>
    private static bool TryParseEntry(string? entry, out string? local, out string domain)
    {
        local = null;
        domain = string.Empty;
        if (string.IsNullOrWhiteSpace(entry) || entry.Trim() != entry)
        {
            return false;
        }

        if (entry[0] == '@')
        {
            entry = entry[1..];
            if (entry.Contains('@', StringComparison.Ordinal))
            {
                return false;
            }
        }

        if (!entry.Contains('@', StringComparison.Ordinal))
        {
            domain = NormalizeDomain(entry);
            return domain.Length > 0;
        }

        var ok = TrySplit(entry, out var l, out domain);
        local = l;
        return ok;
    }

    /// <summary>Splits at the last '@' (a quoted local part may hold one); both halves non-empty, domain normalised.</summary>
    private static bool TrySplit(string address, out string local, out string domain)
    {
        var at = address.LastIndexOf('@');
        local = at > 0 ? address[..at] : string.Empty;
        domain = at > 0 ? NormalizeDomain(address[(at + 1)..]) : string.Empty;
        return local.Length > 0 && domain.Length > 0;
    }

    /// <summary>
    /// <see cref="DomainKey.TryNormalize"/>, then RFC 5321 §4.1.2 syntax on the A-label form (letters, digits,
    /// hyphens and dots; DomainKey itself lets "not a domain" through), or an address literal. "" when invalid.
    /// </summary>
    private static string NormalizeDomain(string domain)
    {
        var normalized = DomainKey.TryNormalize(domain);
        return normalized is not null
            && (normalized[0] == '[' || normalized.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.'))
            ? normalized
            : string.Empty;
    }

    private static string Unbracket(string address) =>
        address.Length >= 2 && address[0] == '<' && address[^1] == '>' ? address[1..^1] : address;
}
