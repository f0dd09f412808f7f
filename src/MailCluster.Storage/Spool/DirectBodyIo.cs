using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using static MailCluster.Storage.LibC;

namespace MailCluster.Storage;

/// <summary>
/// Body files written and read with <c>O_DIRECT</c>: the bytes go from an aligned buffer of this process to the device,
/// not through the page cache. A buffered write of a body that lives until it is delivered copies it into page-cache
/// pages the kernel has to find first; on the benchmark machine (<c>bench/bodyfile.sh</c>: 1,000 files of 1 MiB kept,
/// fsync each) that costs 2.3-2.4 CPU-ms per MiB against 0.3-0.6 with <c>O_DIRECT</c>. Reads are direct too: a buffered
/// read of a file written this way fills the page cache in its turn (0.4-0.5 CPU-ms per MiB, against 0.1-0.2).
/// <para>Durability is the caller's as before: <c>fsync</c> of the file (which flushes the device's write cache and
/// commits the size) and of its directory.</para>
/// <para>O_DIRECT needs the memory address, the file offset and the length aligned to the device's logical block; this
/// uses 4,096 for all three, which covers every block size up to it. A body is copied through a pooled aligned buffer
/// of <see cref="ChunkBytes"/>; the last chunk is padded with zeros to the alignment and the file is then truncated to
/// the body's length. A filesystem without O_DIRECT (or an unknown architecture) answers <c>EINVAL</c>; the caller then
/// falls back to buffered I/O for good.</para>
/// </summary>
internal static class DirectBodyIo
{
    public const int Alignment = 4096;
    public const int ChunkBytes = 1 << 20;

    /// <summary>The most one read asks for; the device queue splits it into requests it runs in parallel.</summary>
    private const int MaxReadBytes = 16 << 20;

    /// <summary>Buffers kept for reuse; more writers at once allocate and drop theirs.</summary>
    private const int PooledBuffers = 16;

    private const int UserReadWrite = 0x180; // 0600: mail bodies are the node's alone.

    private static readonly ConcurrentBag<AlignedBuffer> Pool = [];

    /// <summary>O_DIRECT's value differs by architecture (x86 040000, Arm 0200000); 0 where it is not known here.</summary>
    private static readonly int ODirect = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x4000,
        Architecture.Arm64 or Architecture.Arm => 0x10000,
        _ => 0,
    };

    public static bool Available => ODirect != 0 && OperatingSystem.IsLinux();

    /// <summary>Creates <paramref name="path"/> (it must not exist), writes <paramref name="body"/> and fsyncs the file.
    /// False, with no file left behind, when the filesystem refuses O_DIRECT.</summary>
    /// <exception cref="IOException">Any other failure; the file is removed.</exception>
    public static bool TryWrite(string path, ReadOnlySpan<byte> body)
    {
        if (!Available)
        {
            return false;
        }

        var fd = Open(path, OWrOnly | OCreat | OExcl | OCloExec | ODirect, UserReadWrite);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EInval)
            {
                // Some filesystems create the file before refusing the flag.
                File.Delete(path);
                return false;
            }

            throw Failure("open", path, errno);
        }

        var buffer = Rent();
        var kept = false;
        try
        {
            long offset = 0;
            while (offset < body.Length)
            {
                var count = (int)Math.Min(ChunkBytes, body.Length - offset);
                body.Slice((int)offset, count).CopyTo(buffer.Span);
                var aligned = RoundUp(count);
                buffer.Span[count..aligned].Clear();
                var written = PWrite(fd, buffer.Address, aligned, offset);
                if (written != aligned)
                {
                    var errno = written < 0 ? Marshal.GetLastPInvokeError() : 0;
                    if (errno == EInval && offset == 0)
                    {
                        return false;
                    }

                    throw written < 0 ? Failure("pwrite", path, errno) : new IOException($"pwrite({path}) wrote {written} of {aligned} bytes.");
                }

                offset += count;
            }

            if (RoundUp(body.Length) != body.Length && FTruncate(fd, body.Length) != 0)
            {
                throw Failure("ftruncate", path, Marshal.GetLastPInvokeError());
            }

            if (FSync(fd) != 0)
            {
                throw Failure("fsync", path, Marshal.GetLastPInvokeError());
            }

            kept = true;
            return true;
        }
        finally
        {
            // After a successful fsync, close(2) has nothing left to report about the data; a file not kept (refused
            // or failed) is removed.
            _ = Close(fd);
            if (!kept)
            {
                File.Delete(path);
            }

            Return(buffer);
        }
    }

    /// <summary>Reads the whole file at <paramref name="path"/>, which must be <paramref name="length"/> bytes long,
    /// straight into the body it returns: a slice, at an aligned address, of an array pinned while it is filled by one
    /// <c>pread</c> per <see cref="MaxReadBytes"/> (no copy through a staging buffer).</summary>
    /// <returns>The body; <see cref="ReadResult.Missing"/> when the file does not exist, <see cref="ReadResult.Refused"/>
    /// when the filesystem refuses O_DIRECT.</returns>
    /// <exception cref="InvalidDataException">The file is not <paramref name="length"/> bytes long.</exception>
    public static (ReadResult Result, ReadOnlyMemory<byte> Body) TryRead(string path, long length)
    {
        if (!Available)
        {
            return (ReadResult.Refused, default);
        }

        var fd = Open(path, OCloExec | ODirect, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno switch
            {
                ENoEnt => (ReadResult.Missing, default),
                EInval => (ReadResult.Refused, default),
                _ => throw Failure("open", path, errno),
            };
        }

        try
        {
            var actual = LSeek(fd, 0, SeekEnd);
            if (actual < 0)
            {
                throw Failure("lseek", path, Marshal.GetLastPInvokeError());
            }

            if (actual != length)
            {
                throw new InvalidDataException($"Spool body file {Path.GetFileName(path)} is {actual} bytes long; its row says {length}.");
            }

            // An ordinary array, pinned only while the reads run: one on the pinned object heap has a gen2 budget of
            // its own, and a node relaying 1 MB bodies spent 2.5x as much in background GCs with it (session s30).
            var rounded = RoundUp(length);
            var array = GC.AllocateUninitializedArray<byte>(checked((int)(rounded + Alignment)));
            var pin = GCHandle.Alloc(array, GCHandleType.Pinned);
            try
            {
                var address = pin.AddrOfPinnedObject();
                var start = (int)((Alignment - (address % Alignment)) % Alignment);
                long offset = 0;
                while (offset < length)
                {
                    var read = PRead(fd, address + start + (nint)offset, (nint)Math.Min(MaxReadBytes, rounded - offset), offset);
                    if (read < 0)
                    {
                        var errno = Marshal.GetLastPInvokeError();
                        if (errno == EInval && offset == 0)
                        {
                            return (ReadResult.Refused, default);
                        }

                        throw Failure("pread", path, errno);
                    }

                    if (read == 0)
                    {
                        throw new InvalidDataException($"Spool body file {Path.GetFileName(path)} ended after {offset} of {length} bytes.");
                    }

                    // A short read ends at the end of the file (or a signal); the next offset stays aligned unless it is the end.
                    offset += read;
                }

                return (ReadResult.Read, array.AsMemory(start, (int)length));
            }
            finally
            {
                pin.Free();
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    internal enum ReadResult
    {
        Read,
        Missing,
        Refused,
    }

    private static long RoundUp(long count) => (count + Alignment - 1) / Alignment * Alignment;

    private static int RoundUp(int count) => (int)RoundUp((long)count);

    private static AlignedBuffer Rent() => Pool.TryTake(out var buffer) ? buffer : new AlignedBuffer();

    private static void Return(AlignedBuffer buffer)
    {
        if (Pool.Count < PooledBuffers)
        {
            Pool.Add(buffer);
        }
    }

    /// <summary><see cref="ChunkBytes"/> at an address aligned to <see cref="Alignment"/>, inside an array on the pinned
    /// object heap (it never moves; the GC frees it once dropped).</summary>
    private sealed class AlignedBuffer
    {
        private readonly byte[] array = GC.AllocateUninitializedArray<byte>(ChunkBytes + Alignment, pinned: true);
        private readonly int start;

        public AlignedBuffer()
        {
            var address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
            start = (int)((Alignment - (address % Alignment)) % Alignment);
            Address = address + start;
        }

        public nint Address { get; }

        public Span<byte> Span => array.AsSpan(start, ChunkBytes);
    }
}
