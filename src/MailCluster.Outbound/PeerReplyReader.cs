using System.Globalization;
using System.Text;

namespace MailCluster.Outbound;

/// <summary>
/// A complete (possibly multi-line) reply received from a next-hop SMTP/LMTP server: the code, the text of the last
/// line (enhanced code included), every line's text. Not <c>MailCluster.Smtp.SmtpReply</c>, which is a reply this
/// cluster's edge writes (code, enhanced code and text kept apart, written to a pipe).
/// </summary>
internal sealed record PeerReply(int Code, string Text, IReadOnlyList<string> Lines);

/// <summary>Reads RFC 5321 §4.2 replies ("250-..." continuation lines, then "250 ..."), bounded in size.</summary>
internal sealed class PeerReplyReader(Stream stream)
{
    private const int MaxReplyBytes = 64 * 1024;
    private readonly byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;

    /// <exception cref="IOException">The peer closed the connection or sent something that is not a reply.</exception>
    /// <exception cref="OperationCanceledException">No complete reply within <paramref name="timeoutMs"/>.</exception>
    public async Task<PeerReply> ReadAsync(int timeoutMs, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(timeoutMs);
        var lines = new List<string>();
        int total = 0;
        while (true)
        {
            string line = await ReadLineAsync(timeout.Token).ConfigureAwait(false);
            total += line.Length;
            if (line.Length < 3 || total > MaxReplyBytes
                || !int.TryParse(line.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int code))
            {
                throw new IOException($"malformed reply line: {line}");
            }

            lines.Add(line.Length > 4 ? line[4..] : "");
            if (line.Length == 3 || line[3] == ' ')
            {
                return new PeerReply(code, lines[^1], lines);
            }
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken ct)
    {
        var line = new List<byte>();
        while (true)
        {
            for (; _start < _end; _start++)
            {
                byte b = _buffer[_start];
                if (b == '\n')
                {
                    _start++;
                    int length = line.Count > 0 && line[^1] == '\r' ? line.Count - 1 : line.Count;
                    return Encoding.UTF8.GetString([.. line.Take(length)]);
                }

                if (line.Count >= MaxReplyBytes)
                {
                    throw new IOException("reply line too long");
                }

                line.Add(b);
            }

            _start = 0;
            _end = await stream.ReadAsync(_buffer, ct).ConfigureAwait(false);
            if (_end == 0)
            {
                throw new IOException("connection closed by the peer");
            }
        }
    }
}
