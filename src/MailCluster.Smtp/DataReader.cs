using System.Buffers;

namespace MailCluster.Smtp;

public enum DataStatus
{
    /// <summary>The terminator has not been seen yet: read more.</summary>
    NeedMore,

    /// <summary>"CRLF.CRLF" was read; everything before it is in the output.</summary>
    Complete,

    /// <summary>A bare CR or LF: answer 521 5.5.2 and close. Never followed by Complete.</summary>
    BareLineEnding,
}

/// <summary>
/// Incremental reader of the DATA section (RFC 5321 §4.1.1.4, §4.5.2), fed straight from the pipe.
/// <list type="bullet">
/// <item>Input starts right after the 354 reply, at the start of the first line. A line "." CRLF ends the data;
/// otherwise a leading "." is removed (dot-unstuffing, §4.5.2). The output is the unstuffed message with CRLF line
/// endings and without the terminating ".CRLF".</item>
/// <item>CRLF is the only line ending: a bare LF, or CR followed by anything but LF, anywhere, returns
/// <see cref="DataStatus.BareLineEnding"/> at once, so "\n.\n", "\r.\r" and kin can never end the data
/// (SMTP smuggling, CVE-2023-51764; DESIGN invariant 4).</item>
/// <item><see cref="Size"/> counts unstuffed octets (the same octets SIZE= declares, RFC 1870). Once it passes maxSize,
/// the output holds its first maxSize octets and nothing more, but reading goes on to the terminator, then Complete with
/// <see cref="IsTooLarge"/> set; memory use is bounded by the pipe's segment size whatever the client sends.</item>
/// <item>A text line longer than maxLineLength octets including CRLF (RFC 5321 §4.5.3.1.6: 1000, the stuffing dot not
/// counted) sets <see cref="HasLongLine"/>; a NUL octet sets <see cref="HasNul"/>. Both are the session's policy.</item>
/// <item>After the header section, a run of whole lines that need nothing but their text copied (CRLF endings only, no
/// leading dot) is taken at once: a few vectorized scans and one write per run, instead of a scan, a NUL pass and two
/// writes per line (issue 18: about 14,000 lines per MB). The state machine takes every edge.</item>
/// </list>
/// Every state lives in fields, so the input may be split at any octet boundary with the same result.
/// </summary>
public sealed class DataReader
{
    private static readonly SearchValues<byte> LineEnds = SearchValues.Create("\r\n"u8);
    private static ReadOnlySpan<byte> ReceivedPrefix => "received:"u8;

    private readonly long _maxSize;
    private readonly int _maxLineLength;
    private State _state;
    private int _lineLength;
    private bool _inHeaders;
    private int _headerMatch; // octets of "received:" matched at the start of this line; -1 when it cannot match

    public DataReader(long maxSize, int maxLineLength = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 3);
        _maxSize = maxSize;
        _maxLineLength = maxLineLength;
        Reset();
    }

    private enum State { LineStart, Dot, DotCr, Mid, Cr, Complete, Bare }

    /// <summary>Unstuffed octets of the message so far (CRLFs included, terminator excluded), also past maxSize.</summary>
    public long Size { get; private set; }

    public bool IsTooLarge { get; private set; }

    public bool HasLongLine { get; private set; }

    public bool HasNul { get; private set; }

    /// <summary>"Received:" fields (case-insensitive, at line start) in the header section, i.e. before the first
    /// empty line. Input to mail-loop detection (RFC 5321 §6.3).</summary>
    public int ReceivedHeaderCount { get; private set; }

    /// <summary>Makes the reader ready for the next message of the session.</summary>
    public void Reset()
    {
        _state = State.LineStart;
        _lineLength = 0;
        _inHeaders = true;
        _headerMatch = 0;
        Size = 0;
        IsTooLarge = HasLongLine = HasNul = false;
        ReceivedHeaderCount = 0;
    }

    /// <summary>Consumes input and writes unstuffed message octets to <paramref name="output"/>. On return
    /// <paramref name="buffer"/> starts after the consumed octets: all of them on NeedMore (pass
    /// <c>AdvanceTo(buffer.Start, buffer.End)</c>), through the terminator's LF on Complete (what follows is the next
    /// command, e.g. a pipelined QUIT), through the offending octet on BareLineEnding. Once Complete or BareLineEnding
    /// has been returned, further calls return it again and consume nothing until <see cref="Reset"/>.</summary>
    public DataStatus Read(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        long consumed = 0;
        foreach (var segment in buffer)
        {
            var span = segment.Span;
            var used = Process(span, output);
            consumed += used;
            if (_state is State.Complete or State.Bare)
            {
                buffer = buffer.Slice(consumed);
                return _state == State.Complete ? DataStatus.Complete : DataStatus.BareLineEnding;
            }
        }

        buffer = buffer.Slice(buffer.End);
        return DataStatus.NeedMore;
    }

    /// <summary>Runs the state machine over one span; returns the octets consumed (all, unless it finished).</summary>
    private int Process(ReadOnlySpan<byte> span, IBufferWriter<byte> output)
    {
        var i = 0;
        var tryRuns = true; // off for the rest of the span once PlainLines found nothing (no LF left, or a bare one)
        while (i < span.Length)
        {
            var b = span[i];
            if (tryRuns && _state == State.LineStart && !_inHeaders && b != '.')
            {
                // The body's common case: whole lines that need no per-line action, written in one piece.
                var plain = PlainLines(span[i..]);
                if (plain > 0)
                {
                    Lines(span.Slice(i, plain), output);
                    i += plain;
                    continue;
                }

                tryRuns = false;
            }

            switch (_state)
            {
                case State.LineStart when b == '.':
                    _state = State.Dot; // terminator or stuffing: the next octet decides
                    i++;
                    break;
                case State.LineStart or State.Dot or State.Mid when b == '\r':
                    _state = _state == State.Dot ? State.DotCr : State.Cr;
                    i++;
                    break;
                case State.LineStart or State.Dot or State.Mid when b == '\n':
                    return Bare(i);
                case State.LineStart or State.Dot or State.Mid:
                    // Text up to the next CR or LF, written in one piece. A leading dot (State.Dot) is dropped.
                    var rest = span[i..];
                    var end = rest.IndexOfAny(LineEnds);
                    var run = end < 0 ? rest : rest[..end];
                    Text(run, output);
                    _state = State.Mid;
                    i += run.Length;
                    break;
                case State.DotCr when b == '\n':
                    _state = State.Complete;
                    return i + 1;
                case State.Cr when b == '\n':
                    EndOfLine(output);
                    i++;
                    break;
                case State.DotCr or State.Cr:
                    return Bare(i); // CR not followed by LF
                default:
                    return 0; // Complete or Bare: consume nothing more
            }
        }

        return i;
    }

    /// <summary>
    /// The length of a prefix of <paramref name="span"/> made of whole lines whose only effect is their text: up to the
    /// last LF, cut before the first line that starts with a dot (a terminator or a stuffed line), and only when every
    /// line ending in it is CRLF (else 0: the state machine finds the bare octet). Valid at the start of a line after
    /// the header section, where a line's text needs no matching. A line longer than the limit sets
    /// <see cref="HasLongLine"/> here; NUL is left to <see cref="Lines"/>. Each step is a vectorized search over the
    /// whole prefix, not a search per line.
    /// </summary>
    private int PlainLines(ReadOnlySpan<byte> span)
    {
        var lines = span[..(span.LastIndexOf((byte)'\n') + 1)];
        var dot = lines.IndexOf("\n."u8);
        if (dot >= 0)
        {
            lines = lines[..(dot + 1)];
        }

        if (lines.IsEmpty || lines[0] == '.' || LineEndings.HasBare(lines))
        {
            return 0;
        }

        // Every line fits when every window of maxLineLength octets from a line start holds a LF; the last LF in the
        // window is the next line start to check from, so one search covers many lines.
        var start = 0;
        while (!HasLongLine && lines.Length - start > _maxLineLength)
        {
            var last = lines.Slice(start, _maxLineLength).LastIndexOf((byte)'\n');
            if (last < 0)
            {
                HasLongLine = true;
            }

            start += last + 1;
        }

        return lines.Length;
    }

    /// <summary>Whole lines from <see cref="PlainLines"/>: one scan for NUL, one write; the state stays LineStart.</summary>
    private void Lines(ReadOnlySpan<byte> lines, IBufferWriter<byte> output)
    {
        if (!HasNul && lines.Contains((byte)0))
        {
            HasNul = true;
        }

        Write(lines, output);
    }

    private int Bare(int index)
    {
        _state = State.Bare;
        return index + 1;
    }

    private void Text(ReadOnlySpan<byte> run, IBufferWriter<byte> output)
    {
        if (_headerMatch >= 0)
        {
            MatchReceived(run);
        }

        if (!HasNul && run.Contains((byte)0))
        {
            HasNul = true;
        }

        _lineLength += run.Length;
        if (_lineLength + 2 > _maxLineLength)
        {
            HasLongLine = true;
        }

        Write(run, output);
    }

    private void EndOfLine(IBufferWriter<byte> output)
    {
        if (_lineLength == 0)
        {
            _inHeaders = false; // the empty line ends the header section (RFC 5322 §2.1)
        }

        Write("\r\n"u8, output);
        _lineLength = 0;
        _headerMatch = _inHeaders ? 0 : -1;
        _state = State.LineStart;
    }

    private void MatchReceived(ReadOnlySpan<byte> run)
    {
        var prefix = ReceivedPrefix;
        foreach (var b in run)
        {
            if ((b | 0x20) != prefix[_headerMatch] || (b == ':') != (prefix[_headerMatch] == ':'))
            {
                _headerMatch = -1;
                return;
            }

            if (++_headerMatch == prefix.Length)
            {
                ReceivedHeaderCount++;
                _headerMatch = -1;
                return;
            }
        }
    }

    // Output is always exactly the first min(Size, maxSize) unstuffed octets, however the input was split.
    private void Write(ReadOnlySpan<byte> octets, IBufferWriter<byte> output)
    {
        var room = _maxSize - Size;
        Size += octets.Length;
        if (room < octets.Length)
        {
            IsTooLarge = true;
            octets = octets[..(int)Math.Max(0, room)];
        }

        if (!octets.IsEmpty)
        {
            output.Write(octets);
        }
    }
}
