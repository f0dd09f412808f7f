using MailCluster.Edge.Dkim;
using MailCluster.Edge.Session;

namespace MailCluster.Api.Messages;

/// <summary>
/// What is spooled for one generated message, in the order the SMTP edge writes it: the <c>Received</c> trace field
/// (<see cref="ReceivedHeader"/>, unsigned, RFC 6376 §5.4.1), the DKIM-Signature fields (the edge's own
/// <see cref="DkimSigning"/>, for From addresses the caller may send as — the same rule as authenticated SMTP), then
/// the message text. From here on it travels exactly like SMTP-accepted mail.
/// </summary>
public static class InjectedMessage
{
    /// <param name="client">The HTTP client's address, for the trace field.</param>
    /// <param name="protocol"><c>HTTP</c> or <c>HTTPS</c> (the trace field's "with").</param>
    /// <param name="caller">The key (or token) name, shown as "authenticated as" when the edge shows SMTP users.</param>
    public static byte[] Build(
        byte[] text, string queueId, string recipient, string hostname, string? client, string protocol, string? caller,
        DateTimeOffset now, DkimSigning? dkim, Func<string, bool> mayAuthor)
    {
        ArgumentNullException.ThrowIfNull(text);
        var received = ReceivedHeader.Build(new ReceivedHeader.Trace("api", client, hostname, protocol, queueId, [recipient], now, null, caller));
        var signatures = dkim?.Sign([], text, mayAuthor) ?? [];
        var body = new byte[received.Length + signatures.Length + text.Length];
        received.CopyTo(body, 0);
        signatures.CopyTo(body, received.Length);
        text.CopyTo(body, received.Length + signatures.Length);
        return body;
    }
}
