using System.Buffers;

namespace MailCluster.Smtp;

/// <summary>
/// Reads the octets of BDAT chunks (RFC 3030 §2): after "BDAT n", exactly n octets follow, with no dot-stuffing and
/// no terminator. One instance spans all chunks of a message and enforces the message size limit across them.
/// <para>Not being line-based, BDAT cannot be smuggled into, but a body must still not carry a bare CR or LF onward
/// (DESIGN invariant 4) unless it is BODY=BINARYMIME: <see cref="HasBareLineEnding"/> reports one, even when a CRLF
/// is split between two chunks (that is a valid CRLF).</para>
/// </summary>
public sealed class BdatReader
{
    private static readonly SearchValues<byte> Interesting = SearchValues.Create("\r\n\0"u8);
    private readonly long _maxSize;
    private bool _pendingCr;

    public BdatReader(long maxSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        _maxSize = maxSize;
    }

    /// <summary>Octets of the current chunk still to read.</summary>
    public long Remaining { get; private set; }

    /// <summary>Octets of the message so far, all chunks, also past maxSize.</summary>
    public long Size { get; private set; }

    /// <summary>Size passed maxSize: the output holds the first maxSize octets only; answer 552 5.3.4 after the chunk.</summary>
    public bool IsTooLarge { get; private set; }

    public bool HasNul { get; private set; }

    /// <summary>A CR not followed by LF, or an LF not preceded by CR, was seen (checked up to the end of the last chunk).</summary>
    public bool HasBareLineEnding { get; private set; }

    /// <summary>Starts a chunk of <paramref name="chunkSize"/> octets (the BDAT argument). At LAST, a CR that ended the
    /// previous chunk is bare.</summary>
    public void BeginChunk(long chunkSize, bool last = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunkSize);
        Remaining = chunkSize;
        if (last && chunkSize == 0 && _pendingCr)
        {
            HasBareLineEnding = true;
        }

        IsLast = last;
    }

    /// <summary>The chunk being read was announced with LAST.</summary>
    public bool IsLast { get; private set; }

    /// <summary>Consumes up to <see cref="Remaining"/> octets from <paramref name="buffer"/> (advancing it past them),
    /// writing them to <paramref name="output"/> while within the size limit. True when the chunk is complete;
    /// the rest of <paramref name="buffer"/> is then the next command.</summary>
    public bool Read(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var take = buffer.Slice(0, Math.Min(Remaining, buffer.Length));
        foreach (var segment in take)
        {
            Scan(segment.Span);
            var room = _maxSize - Size;
            Size += segment.Length;
            IsTooLarge |= room < segment.Length;
            output.Write(segment.Span[..(int)Math.Clamp(room, 0, segment.Length)]);
        }

        Remaining -= take.Length;
        buffer = buffer.Slice(take.End);
        if (Remaining == 0 && IsLast && _pendingCr)
        {
            HasBareLineEnding = true;
        }

        return Remaining == 0;
    }

    /// <summary>Ready for the next message.</summary>
    public void Reset()
    {
        Remaining = Size = 0;
        IsTooLarge = HasNul = HasBareLineEnding = IsLast = _pendingCr = false;
    }

    private void Scan(ReadOnlySpan<byte> span)
    {
        if (span.IsEmpty)
        {
            return;
        }

        if (_pendingCr && span[0] != '\n')
        {
            HasBareLineEnding = true;
        }

        for (var i = span.IndexOfAny(Interesting); i >= 0;)
        {
            switch (span[i])
            {
                case 0:
                    HasNul = true;
                    break;
                case (byte)'\r' when i + 1 < span.Length && span[i + 1] != '\n':
                    HasBareLineEnding = true;
                    break;
                case (byte)'\n' when i == 0 ? !_pendingCr : span[i - 1] != '\r':
                    HasBareLineEnding = true;
                    break;
            }

            var next = span[(i + 1)..].IndexOfAny(Interesting);
            i = next < 0 ? -1 : i + 1 + next;
        }

        _pendingCr = span[^1] == '\r';
    }
}
