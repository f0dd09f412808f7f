namespace MailCluster.Outbound;

public enum ContentAction
{
    /// <summary>Send the bytes as they are.</summary>
    Send,
    /// <summary>Send with the SMTPUTF8 MAIL parameter (RFC 6531 §3.4).</summary>
    SendUtf8,
    /// <summary>8-bit body, peer without 8BITMIME: re-encode the 8-bit MIME parts to quoted-printable/base64 (RFC 6152 §3).</summary>
    ConvertTo7Bit,
    /// <summary>Cannot be sent to this peer: every recipient fails with the given code.</summary>
    Fail,
}

/// <summary>What to do with a message for a given peer; <see cref="Code"/>/<see cref="EnhancedCode"/>/<see cref="Text"/> for <see cref="ContentAction.Fail"/>.</summary>
public sealed record ContentDecision(ContentAction Action, int Code = 0, string EnhancedCode = "", string Text = "");

/// <summary>The outbound content rules; pure functions over the spooled bytes.</summary>
public static class OutboundContent
{
    /// <summary>
    /// The outbound half of SMTP smuggling (CVE-2023-51764 class): a bare CR or bare LF must never reach the
    /// peer, where it could be read as a line end and end DATA early. Each one becomes CRLF (as Postfix's
    /// smtp client does); a clean message is returned unchanged (same memory).
    /// </summary>
    public static ReadOnlyMemory<byte> NormalizeLineEndings(ReadOnlyMemory<byte> body)
    {
        var span = body.Span;
        if (!HasBareLineBreak(span))
        {
            return body;
        }

        var output = new List<byte>(span.Length + 16);
        for (int i = 0; i < span.Length; i++)
        {
            byte b = span[i];
            if (b == '\r')
            {
                output.Add((byte)'\r');
                output.Add((byte)'\n');
                if (i + 1 < span.Length && span[i + 1] == '\n')
                {
                    i++;
                }
            }
            else if (b == '\n')
            {
                output.Add((byte)'\r');
                output.Add((byte)'\n');
            }
            else
            {
                output.Add(b);
            }
        }

        return output.ToArray();
    }

    /// <summary>True when a CR is not followed by LF or an LF not preceded by CR (one vectorized pass: the relay runs
    /// it on every message).</summary>
    public static bool HasBareLineBreak(ReadOnlySpan<byte> span) => Smtp.LineEndings.HasBare(span);

    /// <summary>The header section: up to and including the first empty line (or everything when there is none).</summary>
    public static ReadOnlySpan<byte> Headers(ReadOnlySpan<byte> body)
    {
        int end = body.IndexOf("\r\n\r\n"u8);
        return end < 0 ? body : body[..(end + 4)];
    }

    public static bool Has8Bit(ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;

    private static bool IsAscii(string value) => System.Text.Ascii.IsValid(value);

    /// <summary>
    /// RFC 6531 §3.2 needs SMTPUTF8 for a non-ASCII local part only: a domain in Unicode has an ASCII form, its
    /// IDNA A-label (RFC 5890), which is what goes on the wire (<see cref="ToWireForm"/>). A domain that has no
    /// A-label (invalid IDNA) can only travel as UTF-8.
    /// </summary>
    public static bool NeedsSmtpUtf8(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return !IsAscii(address) && !IsAscii(ToWireForm(address));
    }

    /// <summary>
    /// The address as sent without SMTPUTF8: an ASCII local part with the domain as its A-label
    /// (<c>user@bücher.example</c> → <c>user@xn--bcher-kva.example</c>); any other address unchanged (an ASCII one,
    /// the same instance: nothing is allocated for the common case).
    /// </summary>
    public static string ToWireForm(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        int at = address.LastIndexOf('@');
        if (IsAscii(address) || at <= 0 || !IsAscii(address.AsSpan(0, at)))
        {
            return address;
        }

        try
        {
            return string.Concat(address.AsSpan(0, at + 1), Idn.GetAscii(address[(at + 1)..]));
        }
        catch (ArgumentException)
        {
            return address; // not a valid IDN: stays UTF-8 and needs SMTPUTF8
        }
    }

    private static bool IsAscii(ReadOnlySpan<char> value) => System.Text.Ascii.IsValid(value);

    private static readonly System.Globalization.IdnMapping Idn = new() { UseStd3AsciiRules = true };

    /// <summary>
    /// RFC 6531: a message needs SMTPUTF8 when an envelope address (its local part, <see cref="NeedsSmtpUtf8"/>) or a
    /// header carries UTF-8. Without the
    /// extension at the peer it cannot be sent (RFC 6531 §3.5: 553/554 5.6.7; the reverse-path cannot be downgraded).
    /// An 8-bit body (headers ASCII) needs 8BITMIME (RFC 6152); without it the body is converted to 7-bit with MimeKit
    /// when <paramref name="canConvert"/>, else it fails with 5.6.3 (RFC 3463 "conversion required but not supported").
    /// </summary>
    public static ContentDecision Decide(ReadOnlySpan<byte> body, string sender, IEnumerable<string> recipients,
        bool offersSmtpUtf8, bool offers8BitMime, bool canConvert)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(recipients);
        bool needsUtf8 = NeedsSmtpUtf8(sender) || recipients.Any(NeedsSmtpUtf8) || Has8Bit(Headers(body));
        if (needsUtf8)
        {
            return offersSmtpUtf8
                ? new ContentDecision(ContentAction.SendUtf8)
                : new ContentDecision(ContentAction.Fail, 554, "5.6.7", "message needs SMTPUTF8, which the next hop does not offer");
        }

        if (!Has8Bit(body) || offers8BitMime)
        {
            return new ContentDecision(ContentAction.Send);
        }

        return canConvert
            ? new ContentDecision(ContentAction.ConvertTo7Bit)
            : new ContentDecision(ContentAction.Fail, 554, "5.6.3", "8-bit message, the next hop does not offer 8BITMIME, and conversion is not possible");
    }
}
