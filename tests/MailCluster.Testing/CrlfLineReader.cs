namespace MailCluster.Testing;

/// <summary>
/// Reads CRLF-terminated lines from a stream. Only CRLF ends a line: a bare CR or LF stays inside the line,
/// so tests can observe exactly what a client sent (RFC 5321 §2.3.8). Buffered input survives between calls,
/// which is what makes pipelined commands (RFC 2920) work.
/// </summary>
internal sealed class CrlfLineReader(Stream stream, int maxLineLength)
{
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    /// <summary>True when bytes the client already sent are waiting (used to refuse STARTTLS with pipelined data).</summary>
    public bool HasBufferedData => _end > _start;

    /// <summary>Returns the next line without its CRLF, or null at end of stream.</summary>
    /// <exception cref="InvalidDataException">The line exceeds the maximum length.</exception>
    public async Task<byte[]?> ReadLineAsync(CancellationToken cancellationToken)
    {
        using var line = new MemoryStream();
        while (true)
        {
            int scanFrom = _start;
            while (scanFrom < _end)
            {
                int lf = Array.IndexOf(_buffer, (byte)'\n', scanFrom, _end - scanFrom);
                if (lf < 0)
                {
                    break;
                }

                bool crBefore = lf > _start ? _buffer[lf - 1] == '\r' : EndsWithCr(line);
                if (crBefore)
                {
                    line.Write(_buffer, _start, lf + 1 - _start);
                    _start = lf + 1;
                    byte[] bytes = line.ToArray();
                    return bytes[..^2];
                }

                scanFrom = lf + 1;
            }

            line.Write(_buffer, _start, _end - _start);
            _start = _end = 0;
            if (line.Length > maxLineLength)
            {
                throw new InvalidDataException($"line longer than {maxLineLength} bytes");
            }

            int read = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            _end = read;
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes (a BDAT chunk, RFC 3030), buffered ones first.</summary>
    /// <exception cref="IOException">The stream ended first.</exception>
    public async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var chunk = new byte[count];
        int have = Math.Min(count, _end - _start);
        Array.Copy(_buffer, _start, chunk, 0, have);
        _start += have;
        await stream.ReadExactlyAsync(chunk.AsMemory(have), cancellationToken).ConfigureAwait(false);
        return chunk;
    }

    private static bool EndsWithCr(MemoryStream line) =>
        line.Length > 0 && line.GetBuffer()[line.Length - 1] == '\r';
}
