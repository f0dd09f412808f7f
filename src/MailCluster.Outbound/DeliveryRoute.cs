using System.Globalization;

namespace MailCluster.Outbound;

public enum RouteKind
{
    /// <summary>The domain's MX hosts (RFC 5321 §5.1).</summary>
    Mx,
    /// <summary>A smarthost speaking SMTP.</summary>
    Smtp,
    /// <summary>A mailbox server speaking LMTP (RFC 2033).</summary>
    Lmtp,
}

/// <summary>Where mail for a domain goes: <c>mx</c>, <c>smtp:host:port</c> or <c>lmtp:host:port</c> (Postfix's
/// transport map syntax, minus brackets: a relay host is always used as given, never looked up as MX).</summary>
public sealed record DeliveryRoute(RouteKind Kind, string? Host, int Port)
{
    public static readonly DeliveryRoute Mx = new(RouteKind.Mx, null, 0);

    /// <summary>Parses a route; null when the text is not one. <c>[v6]</c> hosts are accepted: <c>smtp:[::1]:25</c>.</summary>
    public static DeliveryRoute? Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Trim().Equals("mx", StringComparison.OrdinalIgnoreCase))
        {
            return string.IsNullOrWhiteSpace(value) ? null : Mx;
        }

        string text = value.Trim();
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return null;
        }

        RouteKind? kind = text[..colon].ToUpperInvariant() switch
        {
            "SMTP" => RouteKind.Smtp,
            "LMTP" => RouteKind.Lmtp,
            _ => null,
        };
        string rest = text[(colon + 1)..];
        int portColon = rest.LastIndexOf(':');
        if (kind is null || portColon <= 0
            || !int.TryParse(rest[(portColon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port)
            || port is < 1 or > 65535)
        {
            return null;
        }

        string host = rest[..portColon].Trim('[', ']');
        return host.Length == 0 ? null : new DeliveryRoute(kind.Value, host, port);
    }

    public override string ToString() => Kind == RouteKind.Mx
        ? "mx"
        : string.Create(CultureInfo.InvariantCulture, $"{Kind.ToString().ToLowerInvariant()}:{Host}:{Port}");
}
