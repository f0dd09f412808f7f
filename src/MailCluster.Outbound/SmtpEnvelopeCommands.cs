using System.Globalization;
using System.Text;
using MailCluster.Queue.Protocol;

namespace MailCluster.Outbound;

/// <summary>What MAIL FROM carries besides the reverse-path; decided by <see cref="SmtpTransaction"/> from the content
/// rules and the peer's EHLO keywords.</summary>
/// <param name="SmtpUtf8">RFC 6531 §3.4: the SMTPUTF8 parameter (the peer offers it and the message needs it).</param>
/// <param name="Size">RFC 1870: the message size, when the peer offers SIZE; null otherwise.</param>
/// <param name="EightBitMime">RFC 6152: BODY=8BITMIME (an 8-bit body to a peer that offers it).</param>
/// <param name="Dsn">The sender's RFC 3461 parameters; written only when <paramref name="DsnOffered"/>.</param>
public sealed record MailParameters(bool SmtpUtf8 = false, long? Size = null, bool EightBitMime = false, DsnEnvelope? Dsn = null, bool DsnOffered = false);

/// <summary>
/// The MAIL and RCPT command lines of the outbound SMTP client (pure, no CRLF). RFC 3461 parameters go only to a peer
/// that offers DSN (§5.2: a relay to a non-DSN peer drops them and may itself report "relayed"). The ORCPT a client
/// gave is relayed exactly as it came on the wire (§5.2.1: an ORCPT present when the message was received is passed on
/// unchanged);
/// a re-encoding of its decoded value is only the fallback for envelopes persisted before the wire form was kept.
/// </summary>
public static class SmtpEnvelopeCommands
{
    /// <summary>MAIL FROM:&lt;path&gt; [SMTPUTF8] [SIZE=n] [BODY=8BITMIME] [ENVID=xtext] [RET=FULL|HDRS]; an empty
    /// sender is the null reverse-path. The address is written as given: the caller passes its wire form.</summary>
    public static string MailFrom(string sender, MailParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(parameters);
        var line = new StringBuilder("MAIL FROM:<").Append(sender).Append('>');
        if (parameters.SmtpUtf8)
        {
            line.Append(" SMTPUTF8");
        }

        if (parameters.Size is { } size)
        {
            line.Append(" SIZE=").Append(size.ToString(CultureInfo.InvariantCulture));
        }

        if (parameters.EightBitMime)
        {
            line.Append(" BODY=8BITMIME");
        }

        if (parameters.DsnOffered && parameters.Dsn is { } dsn)
        {
            if (!string.IsNullOrEmpty(dsn.EnvId))
            {
                line.Append(" ENVID=").Append(string.IsNullOrEmpty(dsn.EnvIdXtext) ? EncodeXtext(dsn.EnvId) : dsn.EnvIdXtext);
            }

            // The edge stores RET upper-cased (FULL or HDRS); anything else was never accepted.
            if (dsn.Ret is "FULL" or "HDRS")
            {
                line.Append(" RET=").Append(dsn.Ret);
            }
        }

        return line.ToString();
    }

    /// <summary>RCPT TO:&lt;path&gt; [NOTIFY=...] [ORCPT=addr-type;xtext]. NOTIFY and ORCPT are independent (RFC 3461
    /// §4.1, §4.2): each is written when the client gave it and the peer offers DSN.</summary>
    public static string RcptTo(string recipient, DsnRecipient? dsn, bool dsnOffered, bool smtpUtf8)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        var line = new StringBuilder("RCPT TO:<").Append(recipient).Append('>');
        if (!dsnOffered || dsn is null)
        {
            return line.ToString();
        }

        if (!string.IsNullOrEmpty(dsn.Notify))
        {
            line.Append(" NOTIFY=").Append(dsn.Notify);
        }

        // RFC 6533 §3: raw UTF-8 (utf-8-addr-unitext) may only travel in an SMTPUTF8 transaction; without one, an
        // ORCPT that holds it is left out rather than sent as 8-bit octets a peer could refuse or mangle.
        if (OriginalRecipient(dsn) is { } orcpt && (smtpUtf8 || Ascii.IsValid(orcpt)))
        {
            line.Append(" ORCPT=").Append(orcpt);
        }

        return line.ToString();
    }

    /// <summary>
    /// The ORCPT value to relay: the wire form as the client sent it (<see cref="DsnRecipient.OriginalRecipientXtext"/>),
    /// or, for an envelope persisted without it, the decoded value re-encoded (addr-type kept, the address part as
    /// xtext). Null when the client gave no ORCPT.
    /// </summary>
    public static string? OriginalRecipient(DsnRecipient dsn)
    {
        ArgumentNullException.ThrowIfNull(dsn);
        if (!string.IsNullOrEmpty(dsn.OriginalRecipientXtext))
        {
            return dsn.OriginalRecipientXtext;
        }

        if (string.IsNullOrEmpty(dsn.OriginalRecipient))
        {
            return null;
        }

        int semi = dsn.OriginalRecipient.IndexOf(';', StringComparison.Ordinal);
        return semi <= 0 ? null : string.Concat(dsn.OriginalRecipient.AsSpan(0, semi + 1), EncodeXtext(dsn.OriginalRecipient[(semi + 1)..]));
    }

    /// <summary>xtext (RFC 3461 §4): the UTF-8 octets of <paramref name="value"/>, each one outside "!" to "~", and
    /// "+" and "=", as "+" and two upper-case hex digits.</summary>
    public static string EncodeXtext(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = new StringBuilder(value.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            if (b is >= 33 and <= 126 and not (byte)'+' and not (byte)'=')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('+').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }
}
