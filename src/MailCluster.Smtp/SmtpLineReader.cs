using System.Buffers;

namespace MailCluster.Smtp;

public enum LineStatus
{
    /// <summary>A complete line was read.</summary>
    Line,

    /// <summary>No complete line yet: read more from the pipe.</summary>
    NeedMore,

    /// <summary>A line over the limit was discarded up to and including its CRLF: answer 500 5.5.6 and go on.</summary>
    TooLong,

    /// <summary>A bare LF, or a CR not followed by LF: answer 521 5.5.2 and close (SMTP smuggling, CVE-2023-51764).</summary>
    BareLineEnding,
}

/// <summary>
/// Reads CRLF-terminated command lines from a pipe buffer (RFC 5321 §2.3.8: CRLF is the only line ending).
/// A bare LF, or a CR followed by anything but LF, yields <see cref="LineStatus.BareLineEnding"/>, also inside a line
/// being discarded. A line longer than <see cref="MaxLength"/> (CRLF excluded; RFC 5321 §4.5.3.1.4 sets 512 with the
/// CRLF) is never buffered: its bytes are consumed as they arrive, across calls, and once its CRLF is seen
/// <see cref="LineStatus.TooLong"/> is returned, once. At most MaxLength + 1 unconsumed bytes are ever asked for.
/// <para>Caller contract, for every status: after the call, <c>buffer.Start</c> is the consumed position and
/// <c>buffer.End</c> the examined position, so a read loop is
/// <code>
/// while ((status = reader.TryRead(ref buffer, out var line)) == LineStatus.Line) { Handle(line); }
/// pipe.AdvanceTo(buffer.Start, buffer.End);
/// </code>
/// (<c>line</c> points into the pipe's memory: use it before AdvanceTo.) On BareLineEnding the buffer is left at the
/// start of the offending line; the session is over.</para>
/// </summary>
public sealed class SmtpLineReader
{
    private int _maxLength;
    private bool _discarding;

    public SmtpLineReader(int maxLength) => MaxLength = maxLength;

    /// <summary>Longest accepted line, CRLF excluded. Settable so that, e.g., an AUTH exchange can allow longer
    /// lines (RFC 4954 §4 suggests 12288 octets).</summary>
    public int MaxLength
    {
        get => _maxLength;
        set => _maxLength = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be positive");
    }

    /// <summary>True while the tail of an over-long line is being discarded.</summary>
    public bool IsDiscarding => _discarding;

    /// <summary>Forgets a partly discarded line.</summary>
    public void Reset() => _discarding = false;

    public LineStatus TryRead(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        line = default;
        var reader = new SequenceReader<byte>(buffer);
        var found = reader.TryAdvanceToAny("\r\n"u8, advancePastDelimiter: false);
        var lineLength = found ? reader.Consumed : buffer.Length;
        var tooLong = _discarding || lineLength > _maxLength;

        if (!found)
        {
            if (tooLong)
            {
                // Every byte belongs to the over-long line: drop them all.
                _discarding = true;
                buffer = buffer.Slice(buffer.End);
            }

            return LineStatus.NeedMore;
        }

        reader.TryPeek(out var delimiter);
        if (delimiter == '\n')
        {
            return LineStatus.BareLineEnding;
        }

        // delimiter is CR: look at the byte after it.
        if (!reader.TryPeek(1, out var next))
        {
            if (tooLong)
            {
                // Drop the line's bytes but keep the CR, so the next call sees CR and its successor together.
                _discarding = true;
                buffer = buffer.Slice(reader.Position);
            }

            return LineStatus.NeedMore;
        }

        if (next != '\n')
        {
            return LineStatus.BareLineEnding;
        }

        var crlf = buffer.GetPosition(2, reader.Position);
        if (tooLong)
        {
            _discarding = false;
            buffer = buffer.Slice(crlf);
            return LineStatus.TooLong;
        }

        line = buffer.Slice(0, reader.Position);
        buffer = buffer.Slice(crlf);
        return LineStatus.Line;
    }
}
