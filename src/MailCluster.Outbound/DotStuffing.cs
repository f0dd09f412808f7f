namespace MailCluster.Outbound;

/// <summary>
/// DATA transparency (RFC 5321 §4.5.2): a line that starts with "." gets another in front, and the text ends with
/// CRLF "." CRLF. Pure functions over the spooled bytes, shared by the SMTP and LMTP clients. A body that has no line
/// starting with a dot (almost every message) is sent as it is, followed by <see cref="Terminator"/>: no copy of it.
/// </summary>
public static class DotStuffing
{
    /// <summary>True when some line of <paramref name="body"/> starts with a dot (one vectorized search).</summary>
    public static bool IsNeeded(ReadOnlySpan<byte> body) =>
        (!body.IsEmpty && body[0] == '.') || body.IndexOf("\n."u8) >= 0;

    /// <summary>What follows the (stuffed) body: ".\r\n" after a final line end, else "\r\n.\r\n" (the text must end
    /// with CRLF before the terminator line).</summary>
    public static ReadOnlySpan<byte> Terminator(ReadOnlySpan<byte> body) =>
        body.IsEmpty || body[^1] == '\n' ? ".\r\n"u8 : "\r\n.\r\n"u8;

    /// <summary>The stuffed body and its terminator in one array; the lines between dots are copied in one piece each.</summary>
    public static byte[] Stuff(ReadOnlySpan<byte> body)
    {
        var dots = body.IsEmpty || body[0] != '.' ? 0 : 1;
        for (var rest = body; rest.IndexOf("\n."u8) is var at && at >= 0; rest = rest[(at + 2)..])
        {
            dots++;
        }

        var terminator = Terminator(body);
        var output = new byte[body.Length + dots + terminator.Length];
        var written = 0;
        var start = 0;
        while (start < body.Length)
        {
            if (body[start] == '.' && (start == 0 || body[start - 1] == '\n'))
            {
                output[written++] = (byte)'.';
            }

            // Up to and including the next "\n" that is followed by a dot, or to the end.
            var next = body[start..].IndexOf("\n."u8);
            var piece = next < 0 ? body[start..] : body.Slice(start, next + 1);
            piece.CopyTo(output.AsSpan(written));
            written += piece.Length;
            start += piece.Length;
        }

        terminator.CopyTo(output.AsSpan(written));
        return output;
    }
}
