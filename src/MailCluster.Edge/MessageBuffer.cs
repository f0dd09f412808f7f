using System.Buffers;

namespace MailCluster.Edge;

/// <summary>
/// The text of one message as it arrives (DATA or BDAT), kept in one array rented from the shared pool, with room
/// reserved in front for the trace header the edge prepends (<see cref="WithPrefix"/>). The body handed to the spool is
/// then a slice of this array: no second copy of the message, and no large-object-heap array per message (a 1 MB
/// message used to cost ~4 MB of fresh, zeroed arrays while its buffer doubled, plus one more for the header).
/// <para>Growth doubles, and jumps towards a size declared with MAIL SIZE= (RFC 1870) only in step with what has
/// really arrived (at most 4× the octets received), so a declaration alone never reserves memory. The reader in front
/// of this buffer stops writing at the configured maximum message size.</para>
/// <para>Ownership: the connection fills it; after the hand-off the session owns it and calls <see cref="Release"/>
/// once nothing can read the array any more (the message was refused, or accepted and written). When acceptance
/// fails, a spool write may still be in flight, so the array is left to the garbage collector instead.</para>
/// </summary>
public sealed class MessageBuffer : IBufferWriter<byte>
{
    /// <summary>Room in front of the text for Received: (and DKIM-Signature, Message-ID, Date on submission); a longer prefix is copied.</summary>
    public const int Reserved = 2048;

    private const int InitialText = 16 * 1024;

    private readonly long? _declaredSize;
    private byte[]? _array;
    private int _end;

    public MessageBuffer(long? declaredSize = null)
    {
        _declaredSize = declaredSize;
        _array = ArrayPool<byte>.Shared.Rent(Reserved + InitialText);
        _end = Reserved;
    }

    /// <summary>The message text written so far.</summary>
    public ReadOnlyMemory<byte> Written => Current.AsMemory(Reserved, _end - Reserved);

    private byte[] Current => _array ?? throw new ObjectDisposedException(nameof(MessageBuffer));

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_end + count > Current.Length)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        _end += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 1));
        return Current.AsMemory(_end);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 1));
        return Current.AsSpan(_end);
    }

    /// <summary>
    /// The message as it is spooled: <paramref name="first"/>, then <paramref name="second"/>, then the text. Written
    /// into the reserved room in front of the text when they fit (the usual case), else copied into a new array.
    /// </summary>
    public ReadOnlyMemory<byte> WithPrefix(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var array = Current;
        var prefix = first.Length + second.Length;
        if (prefix <= Reserved)
        {
            var start = Reserved - prefix;
            first.CopyTo(array.AsSpan(start));
            second.CopyTo(array.AsSpan(start + first.Length));
            return array.AsMemory(start, _end - start);
        }

        var text = Written.Span;
        var body = new byte[prefix + text.Length];
        first.CopyTo(body);
        second.CopyTo(body.AsSpan(first.Length));
        text.CopyTo(body.AsSpan(prefix));
        return body;
    }

    /// <summary>Returns the array to the pool. Call only when no one reads the text or a <see cref="WithPrefix"/>
    /// result any more. Idempotent.</summary>
    public void Release()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private void Ensure(int needed)
    {
        var array = Current;
        if (array.Length - _end >= needed)
        {
            return;
        }

        long written = _end - Reserved;
        var target = Math.Max(2L * array.Length, (long)_end + needed);
        if (_declaredSize is { } declared)
        {
            target = Math.Max(target, Reserved + Math.Min(declared + 4096, 4 * written));
        }

        var next = ArrayPool<byte>.Shared.Rent((int)Math.Min(target, System.Array.MaxLength));
        array.AsSpan(0, _end).CopyTo(next);
        _array = next;
        ArrayPool<byte>.Shared.Return(array);
    }
}
