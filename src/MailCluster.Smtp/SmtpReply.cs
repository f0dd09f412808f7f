using System.Buffers;
using System.Text;

namespace MailCluster.Smtp;

/// <summary>
/// One SMTP reply (RFC 5321 §4.2) with an optional RFC 3463 enhanced status code (RFC 2034 §3).
/// <para><see cref="Text"/> may hold several lines separated by '\n'; they are written as a multi-line reply
/// ("250-first", ..., "250 last"), each line carrying <see cref="EnhancedCode"/> unless it is empty
/// (the 220 greeting and the EHLO keyword lines carry none). A '\r' in the text is dropped, so a reply can never
/// inject a line ending of its own.</para>
/// </summary>
public readonly record struct SmtpReply(int Code, string EnhancedCode, string Text)
{
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>2xx or 3xx: the command was accepted (3xx: send more).</summary>
    public bool IsPositive => Code < 400;

    /// <summary>3xx: intermediate reply (354 for DATA, 334 for AUTH).</summary>
    public bool IsIntermediate => Code is >= 300 and < 400;

    /// <summary>4xx: transient failure, the client may retry.</summary>
    public bool IsTransient => Code is >= 400 and < 500;

    /// <summary>5xx: permanent failure.</summary>
    public bool IsPermanent => Code >= 500;

    /// <summary>221 and 421: the server closes the connection after sending this reply (RFC 5321 §3.8, §4.2.2).
    /// 521 (bare line ending) closes as well (RFC 7504).</summary>
    public bool ClosesConnection => Code is 221 or 421 or 521;

    /// <summary>Number of octets <see cref="WriteTo"/> produces, final CRLF included.</summary>
    public int ByteCount
    {
        get
        {
            var enhanced = EnhancedCode ?? string.Empty;
            var rest = (Text ?? string.Empty).AsSpan();
            var bytes = 0;
            while (true)
            {
                var newline = rest.IndexOf('\n');
                var line = newline < 0 ? rest : rest[..newline];
                bytes += LineLength(line, last: newline < 0, enhanced);
                if (newline < 0)
                {
                    return bytes;
                }

                rest = rest[(newline + 1)..];
            }
        }
    }

    /// <summary>Writes the reply in wire form, final CRLF included. Allocation-free apart from the writer's buffer.</summary>
    public void WriteTo(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var size = ByteCount;
        var span = output.GetSpan(size);
        var text = (Text ?? string.Empty).AsSpan();
        var enhanced = EnhancedCode ?? string.Empty;
        var written = 0;
        var rest = text;
        while (true)
        {
            var newline = rest.IndexOf('\n');
            var line = newline < 0 ? rest : rest[..newline];
            written += WriteLine(span[written..], Code, newline < 0, enhanced, line);
            if (newline < 0)
            {
                break;
            }

            rest = rest[(newline + 1)..];
        }

        output.Advance(written);
    }

    /// <summary>The wire text without the final CRLF (lines of a multi-line reply are joined by CRLF).</summary>
    public override string ToString()
    {
        var writer = new ArrayBufferWriter<byte>(ByteCount);
        WriteTo(writer);
        return Utf8.GetString(writer.WrittenSpan[..^2]);
    }

    private static int TextBytes(ReadOnlySpan<char> line) => Utf8.GetByteCount(line) - line.Count('\r');

    // Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF   (RFC 5321 §4.2)
    private static int LineLength(ReadOnlySpan<char> line, bool last, string enhanced)
    {
        var textBytes = TextBytes(line);
        var body = enhanced.Length + (enhanced.Length > 0 && textBytes > 0 ? 1 : 0) + textBytes;
        var separator = body > 0 || !last ? 1 : 0;
        return 3 + separator + body + 2;
    }

    private static int WriteLine(Span<byte> span, int code, bool last, string enhanced, ReadOnlySpan<char> line)
    {
        var n = 0;
        code = Math.Clamp(code, 0, 999);
        span[n++] = (byte)('0' + (code / 100));
        span[n++] = (byte)('0' + (code / 10 % 10));
        span[n++] = (byte)('0' + (code % 10));
        var hasText = TextBytes(line) > 0;
        if (!last || hasText || enhanced.Length > 0)
        {
            span[n++] = last ? (byte)' ' : (byte)'-';
        }

        if (enhanced.Length > 0)
        {
            n += Encoding.ASCII.GetBytes(enhanced, span[n..]);
            if (hasText)
            {
                span[n++] = (byte)' ';
            }
        }

        while (!line.IsEmpty)
        {
            var cr = line.IndexOf('\r');
            var piece = cr < 0 ? line : line[..cr];
            n += Utf8.GetBytes(piece, span[n..]);
            line = cr < 0 ? [] : line[(cr + 1)..];
        }

        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        return n;
    }
}
