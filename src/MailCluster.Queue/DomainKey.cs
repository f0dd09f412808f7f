using System.Globalization;

namespace MailCluster.Queue;

/// <summary>
/// The one shard key (DESIGN invariant 3): everything addressed to a recipient domain routes by the domain,
/// lower-cased and IDNA-normalised (A-labels), so "Example.COM", "example.com." and "bücher.example" /
/// "xn--bcher-kva.example" each land on a single entity.
/// </summary>
public static class DomainKey
{
    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = false };

    /// <summary>Returns the normalised domain, or null when it is not a valid domain name.</summary>
    public static string? TryNormalize(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var trimmed = domain.Trim().TrimEnd('.');
        if (trimmed.Length == 0)
        {
            return null;
        }

        // Address literals ([192.0.2.1], [IPv6:...]) are their own key.
        if (trimmed[0] == '[')
        {
            return trimmed.ToLowerInvariant();
        }

        try
        {
            return Idn.GetAscii(trimmed).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    public static string Normalize(string domain) =>
        TryNormalize(domain) ?? throw new ArgumentException($"'{domain}' is not a valid domain name.", nameof(domain));

    /// <summary>The domain part of an address (after the last '@'), normalised.</summary>
    public static string OfAddress(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var at = address.LastIndexOf('@');
        if (at < 0 || at == address.Length - 1)
        {
            throw new ArgumentException($"'{address}' has no domain.", nameof(address));
        }

        return Normalize(address[(at + 1)..]);
    }
}
