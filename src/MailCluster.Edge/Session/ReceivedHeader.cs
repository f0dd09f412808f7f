using System.Globalization;
using System.Text;

namespace MailCluster.Edge.Session;

/// <summary>
/// The trace field prepended to every accepted message (RFC 5321 §4.4, RFC 5322 §3.6.7):
/// <c>Received: from helo ([ip]) by host (MailCluster) with PROTOCOL id QUEUEID [for &lt;rcpt&gt;]; date</c>.
/// "for" is only given for a single recipient, so a message never discloses its Bcc list.
/// </summary>
public static class ReceivedHeader
{
    public static byte[] Build(
        string heloName, string? clientAddress, string hostname, string protocol, string queueId, IReadOnlyList<string> recipients, DateTimeOffset now, string? tls)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        var builder = new StringBuilder(256);
        builder.Append("Received: from ").Append(heloName);
        if (clientAddress is not null)
        {
            builder.Append(" ([").Append(clientAddress).Append("])");
        }

        builder.Append("\r\n\tby ").Append(hostname).Append(" (MailCluster) with ").Append(protocol);
        if (tls is not null)
        {
            builder.Append(" (").Append(tls).Append(')');
        }

        builder.Append(" id ").Append(queueId);
        if (recipients.Count == 1)
        {
            builder.Append("\r\n\tfor <").Append(recipients[0]).Append('>');
        }

        builder.Append("; ").Append(now.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture)).Append("\r\n");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }
}
