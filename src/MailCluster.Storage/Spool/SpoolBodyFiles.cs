using System.Runtime.InteropServices;

namespace MailCluster.Storage;

/// <summary>
/// The file half of the embedded spool: bodies at or above the configured threshold are kept as one file each in a
/// directory beside <c>spool.db</c> instead of in a BLOB. SQLite in WAL mode writes a BLOB twice (into the WAL, then
/// again at the checkpoint) and the one writer thread does both; a file is written once, by the session that received
/// the message, in parallel with the others, and the spool row only points to it (table <c>mc_spool_file</c>).
/// <para>Durability, in this order (what Postfix does for its queue files): the file is created under a fresh name,
/// written, fsync'd, then its directory is fsync'd (so the name survives a crash); only then is the row that names it
/// committed. A crash between the two leaves a file no row names: an orphan, never a half-written message, because a
/// reader only opens files that a committed row names, and the sweep (<see cref="ListOlderThan"/>) deletes orphans.</para>
/// <para>Files are written and read with O_DIRECT where the filesystem allows it (<see cref="DirectBodyIo"/>): a body
/// waiting for delivery then takes no page-cache pages, which cost more CPU to fill than the write itself.</para>
/// <para>Deletion runs after the row's deletion committed; a crash in between leaves an orphan too.</para>
/// <para>Valid only where one process owns the data directory (the embedded SQLite mode): with PostgreSQL every node
/// must read every body, so bodies stay in the database there.</para>
/// </summary>
internal sealed class SpoolBodyFiles
{
    /// <param name="directIo">Write and read with O_DIRECT where the filesystem allows it (<see cref="DirectBodyIo"/>);
    /// false keeps every file in the page cache (tests of the fallback).</param>
    public SpoolBodyFiles(string directory, bool directIo = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
        DirectIo = directIo && DirectBodyIo.Available;
    }

    public string Directory { get; }

    /// <summary>True while bodies go through O_DIRECT; turns false for good the first time the filesystem refuses it.</summary>
    public bool DirectIo { get; private set; }

    /// <summary>Test seam: told of each fsync once it returned ("file NAME", "directory").</summary>
    internal Action<string>? SyncedForTests { get; set; }

    /// <summary>Creates the directory (durably: its parent is fsync'd when it was new). Idempotent.</summary>
    public void Initialize()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            return;
        }

        System.IO.Directory.CreateDirectory(Directory);
        SyncDirectory(Path.GetDirectoryName(Directory)!);
    }

    /// <summary>Writes <paramref name="body"/> to a new file and makes it durable (file, then directory); returns
    /// the file's name. Runs on the caller's thread: large bodies are written in parallel, not on the spool writer.</summary>
    public string Write(ReadOnlySpan<byte> body)
    {
        var name = Guid.NewGuid().ToString("N");
        var path = PathOf(name);
        if (!(DirectIo && WriteDirect(path, body)))
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // 0600, as the direct path creates them
            }

            using var file = new FileStream(path, options);
            RandomAccess.Write(file.SafeFileHandle, body, 0);
            RandomAccess.FlushToDisk(file.SafeFileHandle);
        }

        SyncedForTests?.Invoke("file " + name);
        SyncDirectory(Directory);
        SyncedForTests?.Invoke("directory");
        return name;
    }

    /// <summary>The whole body, or null when the file is gone (released since the row was read).</summary>
    /// <exception cref="InvalidDataException">The file is not <paramref name="length"/> bytes long.</exception>
    public async Task<ReadOnlyMemory<byte>?> ReadAsync(string name, long length, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        if (DirectIo)
        {
            var (result, body) = await Task.Run(() => DirectBodyIo.TryRead(path, length), cancellationToken).ConfigureAwait(false);
            switch (result)
            {
                case DirectBodyIo.ReadResult.Read:
                    return body;
                case DirectBodyIo.ReadResult.Missing:
                    return null;
                default:
                    DirectIo = false;
                    break;
            }
        }

        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
            var actual = RandomAccess.GetLength(handle);
            if (actual != length)
            {
                throw new InvalidDataException($"Spool body file {name} is {actual} bytes long; its row says {length}.");
            }

            // One array of the exact size: the only copy of the body this read makes.
            var body = new byte[length];
            var read = 0;
            while (read < body.Length)
            {
                var n = await RandomAccess.ReadAsync(handle, body.AsMemory(read), read, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new InvalidDataException($"Spool body file {name} ended after {read} of {length} bytes.");
                }

                read += n;
            }

            return body;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private bool WriteDirect(string path, ReadOnlySpan<byte> body)
    {
        if (DirectBodyIo.TryWrite(path, body))
        {
            return true;
        }

        DirectIo = false;
        return false;
    }

    /// <summary>Deletes the file if it exists. Not fsync'd: a file that comes back after a crash is an orphan.</summary>
    public void Delete(string name) => File.Delete(PathOf(name));

    /// <summary>The names of the files last written before <paramref name="cutoff"/> (UTC).</summary>
    public IEnumerable<string> ListOlderThan(DateTime cutoff)
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            yield break;
        }

        foreach (var file in new DirectoryInfo(Directory).EnumerateFiles())
        {
            if (file.LastWriteTimeUtc < cutoff && IsBodyName(file.Name))
            {
                yield return file.Name;
            }
        }
    }

    /// <summary>True for a name <see cref="Write"/> makes (32 lower-case hex digits); anything else in the directory
    /// is not the spool's and is left alone.</summary>
    public static bool IsBodyName(string name) =>
        name.Length == 32 && name.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    private string PathOf(string name) =>
        IsBodyName(name) ? Path.Combine(Directory, name) : throw new ArgumentException($"'{name}' is not a spool body file name.", nameof(name));

    /// <summary>fsync(2) of a directory: makes the names created in it durable. .NET opens no directory handle, hence libc.</summary>
    private static void SyncDirectory(string directory)
    {
        var fd = LibC.Open(directory, LibC.ORdOnly | LibC.OCloExec, 0);
        if (fd < 0)
        {
            throw LibC.Failure("open", directory, Marshal.GetLastPInvokeError());
        }

        try
        {
            if (LibC.FSync(fd) != 0)
            {
                throw LibC.Failure("fsync", directory, Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            _ = LibC.Close(fd);
        }
    }
}
