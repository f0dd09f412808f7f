using MailCluster.Queue.Spool;
using MailCluster.Storage;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>
/// The embedded spool with bodies as files: the whole spool contract with every non-empty body in a file (threshold 1),
/// then what only files have: the threshold, the order of the fsyncs against the row's commit, a crash between file
/// and row, the orphan-file sweep, and bodies written by release 8fbe274 (all in rows) read beside new ones.
/// </summary>
public sealed class SqliteBodyFileTests : SpoolStoreContract, IDisposable
{
    private const int Threshold = 1;

    private readonly string directory = Path.Combine(Path.GetTempPath(), $"mc-spoolfile-{Guid.NewGuid():N}");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Bodies_below_the_threshold_stay_in_the_row_and_those_at_it_go_to_a_file()
    {
        var location = await NewLocationAsync();
        await using var store = new SqliteSpoolStore(location, fileThreshold: 1000);
        await store.InitializeAsync(Ct);

        await store.WriteAsync("small", Body(999, seed: 1), ["example.com"], Ct);
        await store.WriteAsync("large", Body(1000, seed: 2), ["example.com"], Ct);

        Assert.Equal(999L, await ScalarAsync(location, "SELECT length(body) FROM mc_spool WHERE message_id = 'small'"));
        Assert.Equal(0L, await ScalarAsync(location, "SELECT length(body) FROM mc_spool WHERE message_id = 'large'"));
        var name = (string)(await ScalarAsync(location, "SELECT file_name FROM mc_spool_file WHERE message_id = 'large'"))!;
        Assert.Null(await ScalarAsync(location, "SELECT file_name FROM mc_spool_file WHERE message_id = 'small'"));
        Assert.Equal(Body(1000, seed: 2), await File.ReadAllBytesAsync(Path.Combine(store.Files.Directory, name), Ct));
        Assert.Equal(Body(999, seed: 1), (await store.ReadAsync("small", Ct)).Body.ToArray());
        Assert.Equal(Body(1000, seed: 2), (await store.ReadAsync("large", Ct)).Body.ToArray());
        Assert.Equal(Path.Combine(Path.GetDirectoryName(location)!, "spool-bodies"), store.Files.Directory);
    }

    [Fact]
    public async Task The_file_and_its_directory_are_fsynced_before_the_row_naming_it_commits()
    {
        await using var store = await OpenFileStoreAsync(await NewLocationAsync());
        var events = new List<string>();
        store.Files.SyncedForTests = e =>
        {
            lock (events)
            {
                events.Add(e.Split(' ')[0]);
            }
        };
        store.BeforeCommitForTests = ops =>
        {
            // The row is not committed yet, and the whole body is already on disk under the name the row will hold.
            var write = ops.OfType<WriteOp>().Single();
            Assert.Equal(100_000, new FileInfo(Path.Combine(store.Files.Directory, write.BodyFile!.Name)).Length);
            Assert.True(write.Body.IsEmpty); // the batch carries the name, not the 100 KB
            lock (events)
            {
                events.Add("commit");
            }

            return Task.CompletedTask;
        };

        await store.WriteAsync("m1", Body(100_000, seed: 3), ["example.com"], Ct);

        Assert.Equal(["file", "directory", "commit"], events);
    }

    [Fact]
    public async Task A_crash_between_file_and_row_leaves_no_message_and_the_sweep_deletes_the_file()
    {
        var location = await NewLocationAsync();
        await using var store = await OpenFileStoreAsync(location);
        await store.WriteAsync("kept", Body(5000, seed: 4), ["example.com"], Ct);
        store.BeforeCommitForTests = _ => throw new IOException("disk gone before the row committed");

        await Assert.ThrowsAsync<IOException>(() => store.WriteAsync("lost", Body(5000, seed: 5), ["example.com"], Ct));
        store.BeforeCommitForTests = null;

        // The file is complete and durable, but no row names it: the message does not exist for any reader.
        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("lost", Ct)).Status);
        Assert.Equal(2, Directory.GetFiles(store.Files.Directory).Length);

        // A file cut short by a crash mid-write is the same case: no row names it. A file the spool did not make stays.
        var torn = Path.Combine(store.Files.Directory, Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(torn, Body(10, seed: 6), Ct);
        var foreign = Path.Combine(store.Files.Directory, "README");
        await File.WriteAllTextAsync(foreign, "not a body", Ct);

        // Young orphans are left (their row may be about to commit); old ones go, and a file a row names never does.
        Assert.Equal(0, await store.SweepOrphanFilesAsync(TimeSpan.FromMinutes(30), Ct));
        foreach (var file in Directory.GetFiles(store.Files.Directory))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(-1));
        }

        Assert.Equal(2, await store.SweepOrphanFilesAsync(TimeSpan.FromMinutes(30), Ct));
        Assert.Equal(["README"], Directory.GetFiles(store.Files.Directory).Select(f => Path.GetFileName(f)).Where(n => !SpoolBodyFiles.IsBodyName(n)));
        Assert.Single(Directory.GetFiles(store.Files.Directory), f => SpoolBodyFiles.IsBodyName(Path.GetFileName(f)));
        Assert.Equal(Body(5000, seed: 4), (await store.ReadAsync("kept", Ct)).Body.ToArray());
    }

    [Fact]
    public async Task The_file_is_deleted_after_the_last_release_and_after_a_failed_acceptance()
    {
        await using var store = await OpenFileStoreAsync(await NewLocationAsync());
        await store.WriteAsync("two", Body(3000, seed: 7), ["a.example", "b.example"], Ct);
        await store.CommitAsync("two", Ct);
        await store.WriteAsync("failed", Body(3000, seed: 8), ["a.example"], Ct);

        await store.ReleaseAsync("two", "a.example", Ct);
        Assert.Equal(2, Directory.GetFiles(store.Files.Directory).Length);
        Assert.Equal(Body(3000, seed: 7), (await store.ReadAsync("two", Ct)).Body.ToArray());

        await store.ReleaseAsync("two", "b.example", Ct);
        await store.DeleteUncommittedAsync("failed", Ct);

        Assert.Empty(Directory.GetFiles(store.Files.Directory));
        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("two", Ct)).Status);
        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("failed", Ct)).Status);
    }

    [Fact]
    public async Task A_duplicate_id_keeps_the_first_body_and_leaves_no_second_file()
    {
        await using var store = await OpenFileStoreAsync(await NewLocationAsync());
        await store.WriteAsync("dup", Body(2000, seed: 9), ["example.com"], Ct);

        await Assert.ThrowsAsync<DuplicateMessageIdException>(() => store.WriteAsync("dup", Body(2000, seed: 10), ["example.com"], Ct));

        Assert.Single(Directory.GetFiles(store.Files.Directory));
        Assert.Equal(Body(2000, seed: 9), (await store.ReadAsync("dup", Ct)).Body.ToArray());
    }

    [Fact]
    public async Task A_file_of_the_wrong_length_is_reported_not_delivered_short()
    {
        await using var store = await OpenFileStoreAsync(await NewLocationAsync());
        await store.WriteAsync("m1", Body(2000, seed: 11), ["example.com"], Ct);
        var file = Directory.GetFiles(store.Files.Directory).Single();
        await using (var stream = new FileStream(file, FileMode.Open))
        {
            stream.SetLength(1000);
        }

        await Assert.ThrowsAsync<InvalidDataException>(() => store.ReadAsync("m1", Ct));
    }

    [Theory]
    [InlineData("sigterm")]
    [InlineData("kill9")]
    public async Task Bodies_written_by_release_8fbe274_are_read_beside_new_file_bodies(string fixture)
    {
        // The spool file of the previous release (every body in mc_spool.body, no mc_spool_file table), opened as is.
        var source = Path.Combine(AppContext.BaseDirectory, "fixtures", "release-8fbe274", fixture);
        var location = await NewLocationAsync();
        Directory.CreateDirectory(Path.GetDirectoryName(location)!);
        File.Copy(Path.Combine(source, "spool.db"), location);
        var ids = File.ReadAllLines(Path.Combine(source, "manifest.tsv")).Select(line => line.Split('\t')[0]).ToList();
        Assert.Equal(10, ids.Count);

        await using var store = await OpenFileStoreAsync(location);
        await store.WriteAsync("new", Body(200_000, seed: 12), ["relay.test"], Ct);

        foreach (var id in ids)
        {
            var entry = await store.ReadAsync(id, Ct);
            Assert.Equal(SpoolStatus.Committed, entry.Status);
            Assert.Contains("Subject: fixture", System.Text.Encoding.ASCII.GetString(entry.Body.Span), StringComparison.Ordinal);
        }

        Assert.Equal(Body(200_000, seed: 12), (await store.ReadAsync("new", Ct)).Body.ToArray());
        Assert.Single(Directory.GetFiles(store.Files.Directory));
    }

    protected override Task<string> NewLocationAsync() =>
        Task.FromResult(Path.Combine(directory, $"{Guid.NewGuid():N}", "spool.db"));

    protected override async Task<GroupCommitSpoolStore> OpenAsync(string location, GroupCommitOptions? options = null)
    {
        var store = new SqliteSpoolStore(location, logger: null, options, Threshold);
        await store.InitializeAsync(Ct);
        return store;
    }

    protected override async Task SetCreatedAtAsync(string location, string messageId, DateTimeOffset createdAt)
    {
        await using var connection = new SqliteConnection($"Data Source={location};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE mc_spool SET created_at = $at WHERE message_id = $id";
        command.Parameters.AddWithValue("$at", createdAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$id", messageId);
        Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
    }

    private async Task<SqliteSpoolStore> OpenFileStoreAsync(string location) => (SqliteSpoolStore)await OpenAsync(location);

    private static async Task<object?> ScalarAsync(string location, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={location};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }
}
