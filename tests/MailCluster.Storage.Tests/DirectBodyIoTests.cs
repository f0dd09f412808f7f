using System.Diagnostics;
using MailCluster.Storage;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>
/// Body files through O_DIRECT (<see cref="DirectBodyIo"/>): every length around the alignment and the chunk comes back
/// byte for byte and the file on disk is exactly the body (the padded last block truncated); files written the old,
/// buffered way are read by the direct path and the other way round; and on a filesystem that refuses O_DIRECT (ramfs,
/// mounted by the test: the suite runs as root) the files fall back to buffered I/O and leave nothing behind.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // O_DIRECT, file modes and ramfs are Linux's
public sealed class DirectBodyIoTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"mc-direct-{Guid.NewGuid():N}");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(511)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(DirectBodyIo.ChunkBytes - 1)]
    [InlineData(DirectBodyIo.ChunkBytes)]
    [InlineData(DirectBodyIo.ChunkBytes + 1)]
    [InlineData((3 * DirectBodyIo.ChunkBytes) + 123)]
    public async Task A_body_of_any_length_is_the_file_exactly_and_reads_back(int length)
    {
        var files = NewFiles(directIo: true);
        Assert.True(files.DirectIo, $"{Path.GetTempPath()} refuses O_DIRECT: this test needs a filesystem that has it (ext4, xfs, tmpfs)");
        var body = Body(length, seed: length);

        var name = files.Write(body);

        Assert.True(files.DirectIo);
        var path = Path.Combine(files.Directory, name);
        Assert.Equal(body, await File.ReadAllBytesAsync(path, Ct));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(body, (await files.ReadAsync(name, length, Ct))?.ToArray());
    }

    [Fact]
    public async Task Files_written_buffered_by_the_previous_release_and_direct_by_this_one_read_either_way()
    {
        var buffered = NewFiles(directIo: false);
        var direct = new SpoolBodyFiles(buffered.Directory, directIo: true);
        Assert.False(buffered.DirectIo);
        var old = Body(200_000, seed: 1);
        var current = Body(300_001, seed: 2);

        var oldName = buffered.Write(old);
        var currentName = direct.Write(current);

        Assert.Equal(old, (await direct.ReadAsync(oldName, old.Length, Ct))?.ToArray());
        Assert.Equal(current, (await buffered.ReadAsync(currentName, current.Length, Ct))?.ToArray());
        Assert.True(direct.DirectIo);
    }

    [Fact]
    public async Task A_missing_file_is_null_and_a_file_of_another_length_is_reported()
    {
        var files = NewFiles(directIo: true);
        var name = files.Write(Body(10_000, seed: 3));

        await Assert.ThrowsAsync<InvalidDataException>(() => files.ReadAsync(name, 9_999, Ct));
        files.Delete(name);
        Assert.Null((await files.ReadAsync(name, 10_000, Ct))?.ToArray());
        Assert.True(files.DirectIo);
    }

    [Fact]
    public async Task Many_writers_at_once_each_get_their_own_body()
    {
        var files = NewFiles(directIo: true);
        var bodies = Enumerable.Range(0, 40).Select(i => Body(100_000 + (i * 4_099), seed: 100 + i)).ToArray();

        var names = await Task.WhenAll(bodies.Select(body => Task.Run(() => files.Write(body), Ct)));

        for (var i = 0; i < bodies.Length; i++)
        {
            Assert.Equal(bodies[i], (await files.ReadAsync(names[i], bodies[i].Length, Ct))?.ToArray());
        }
    }

    [Fact]
    public async Task A_filesystem_without_O_DIRECT_falls_back_to_buffered_files_and_leaves_nothing_behind()
    {
        var mountPoint = Path.Combine(directory, "ramfs");
        Directory.CreateDirectory(mountPoint);
        Run("mount", "-t", "ramfs", "ramfs", mountPoint);
        try
        {
            var files = new SpoolBodyFiles(Path.Combine(mountPoint, "spool-bodies"), directIo: true);
            files.Initialize();
            Assert.True(files.DirectIo);
            var body = Body(70_000, seed: 4);

            var name = files.Write(body);

            Assert.False(files.DirectIo);
            Assert.Equal([name], Directory.GetFiles(files.Directory).Select(Path.GetFileName));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(files.Directory, name)));
            Assert.Equal(body, (await files.ReadAsync(name, body.Length, Ct))?.ToArray());
            var second = files.Write(Body(5_000, seed: 5));
            Assert.Equal(Body(5_000, seed: 5), (await files.ReadAsync(second, 5_000, Ct))?.ToArray());
        }
        finally
        {
            Run("umount", mountPoint);
        }
    }

    private SpoolBodyFiles NewFiles(bool directIo)
    {
        var files = new SpoolBodyFiles(Path.Combine(directory, "spool-bodies"), directIo);
        files.Initialize();
        return files;
    }

    private static byte[] Body(int length, int seed)
    {
        var body = new byte[length];
        new Random(seed).NextBytes(body);
        return body;
    }

    private static void Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error} (the suite runs as root; test.sh does)");
    }
}
