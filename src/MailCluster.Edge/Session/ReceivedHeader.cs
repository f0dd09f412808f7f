using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailCluster.Edge.Session;

/// <summary>
/// The trace field prepended to every accepted message (RFC 5321 §4.4, RFC 5322 §3.6.7):
/// <c>Received: from helo ([ip]) by host (MailCluster) with PROTOCOL (tls) (authenticated as user) id QUEUEID
/// [for &lt;rcpt&gt;]; date</c>. "for" is only given for a single recipient, so a message never discloses
/// its Bcc list.
/// </summary>
public static class ReceivedHeader
{
    /// <param name="Tls">"TLSv1.3 cipher ..." when the session is encrypted.</param>
    /// <param name="AuthenticatedAs">The SASL user, when configured to be shown.</param>
    public sealed record Trace(
        string HeloName,
        string? ClientAddress,
        string Hostname,
        string Protocol,
        string QueueId,
        IReadOnlyList<string> Recipients,
        DateTimeOffset Now,
        string? Tls,
        string? AuthenticatedAs);

    public static byte[] Build(Trace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var builder = new StringBuilder(256);
        builder.Append("Received: from ").Append(trace.HeloName);
        if (trace.ClientAddress is not null)
        {
            builder.Append(" (").Append(AddressLiteral(trace.ClientAddress)).Append(')');
        }

        builder.Append("\r\n\tby ").Append(trace.Hostname).Append(" (MailCluster) with ").Append(trace.Protocol);
        if (trace.Tls is not null)
        {
            builder.Append(" (").Append(trace.Tls).Append(')');
        }

        if (trace.AuthenticatedAs is not null)
        {
            builder.Append("\r\n\t(authenticated as ").Append(trace.AuthenticatedAs).Append(')');
        }

        builder.Append("\r\n\tid ").Append(trace.QueueId);
        if (trace.Recipients.Count == 1)
        {
            builder.Append("\r\n\tfor <").Append(trace.Recipients[0]).Append('>');
        }

        builder.Append("; ").Append(trace.Now.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture)).Append("\r\n");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>
    /// The client address as an RFC 5321 §4.1.3 address literal: <c>[192.0.2.1]</c>, <c>[IPv6:2001:db8::1]</c>.
    /// An IPv4 client reaching a dual-stack listener appears as <c>::ffff:a.b.c.d</c>; it is written as the IPv4
    /// literal it is. Text that is not an address is bracketed as given.
    /// </summary>
    public static string AddressLiteral(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!IPAddress.TryParse(address, out var ip))
        {
            return $"[{address}]";
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        return ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[IPv6:{ip}]" : $"[{ip}]";
    }
}
