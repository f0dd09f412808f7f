using System.Net;
using System.Net.Sockets;

namespace MailCluster.Outbound;

/// <summary>Which resolved addresses outbound delivery may use, and in which order; pure.</summary>
public static class AddressPolicy
{
    /// <summary>
    /// True for addresses that are not on the public Internet: loopback (127/8, ::1), RFC 1918 (10/8, 172.16/12,
    /// 192.168/16), CGNAT (100.64/10, RFC 6598), link-local (169.254/16, fe80::/10), unique local (fc00::/7, RFC 4193),
    /// "this network" (0/8), multicast and reserved (224/3), and IPv4-mapped IPv6 forms of all of these.
    /// </summary>
    public static bool IsPrivate(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            byte[] b = address.GetAddressBytes();
            return b[0] is 0 or 10 or >= 224
                || (b[0] == 100 && (b[1] & 0xC0) == 64)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && (b[1] & 0xF0) == 16)
                || (b[0] == 192 && b[1] == 168);
        }

        byte[] v6 = address.GetAddressBytes();
        return address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
            || (v6[0] & 0xFE) == 0xFC;
    }

    /// <summary>Filters (private addresses unless allowed; families excluded by the preference) and orders
    /// (preferred family first, DNS order kept within a family). The input is not modified.</summary>
    public static IReadOnlyList<IPAddress> Select(IEnumerable<IPAddress> addresses, AddressPreference preference, bool allowPrivate)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var usable = addresses.Where(a => allowPrivate || !IsPrivate(a)).ToList();
        static bool V4(IPAddress a) => a.AddressFamily == AddressFamily.InterNetwork;
        return preference switch
        {
            AddressPreference.Ipv4Only => [.. usable.Where(V4)],
            AddressPreference.Ipv6Only => [.. usable.Where(a => !V4(a))],
            AddressPreference.Ipv6 => [.. usable.Where(a => !V4(a)), .. usable.Where(V4)],
            _ => [.. usable.Where(V4), .. usable.Where(a => !V4(a))],
        };
    }
}
