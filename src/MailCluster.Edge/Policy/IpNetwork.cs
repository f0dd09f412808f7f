using System.Net;

namespace MailCluster.Edge.Policy;

/// <summary>A parsed CIDR block that matches IPv4, IPv6 and IPv4-mapped IPv6 client addresses.</summary>
public sealed record IpNetwork(IPNetwork Network)
{
    public static bool TryParse(string text, out IpNetwork? network)
    {
        network = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var candidate = text.Contains('/', StringComparison.Ordinal) ? text.Trim() : HostPrefix(text.Trim());
        if (candidate is null || !IPNetwork.TryParse(candidate, out var parsed))
        {
            return false;
        }

        network = new IpNetwork(parsed);
        return true;
    }

    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6 && Network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            address = address.MapToIPv4();
        }

        return Network.Contains(address);
    }

    private static string? HostPrefix(string address) =>
        IPAddress.TryParse(address, out var ip)
            ? $"{ip}/{(ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)}"
            : null;
}
