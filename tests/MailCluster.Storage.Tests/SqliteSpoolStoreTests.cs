using MailCluster.Queue.Spool;
using MailCluster.Storage;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>The spool contract against real SQLite files in a temp dir, plus SQLite's durability settings.</summary>
public sealed class SqliteSpoolStoreTests : SpoolStoreContract, IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"mc-spool-{Guid.NewGuid():N}");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Every_connection_is_WAL_with_synchronous_FULL()
    {
        await using var store = new SqliteSpoolStore(await NewLocationAsync());
        await store.InitializeAsync(Ct);
        await store.WriteAsync("m1", Body(10, 1), ["example.com"], Ct); // the writer path opened connections too

        for (var i = 0; i < 3; i++)
        {
            await using var connection = await store.OpenConnectionAsync(Ct);
            Assert.Equal("wal", await ScalarAsync(connection, "PRAGMA journal_mode"));
            Assert.Equal(2L, await ScalarAsync(connection, "PRAGMA synchronous")); // 2 = FULL: fsync on every commit
            Assert.Equal(10_000L, await ScalarAsync(connection, "PRAGMA busy_timeout"));
        }
    }

    [Fact]
    public async Task Batches_are_written_on_a_thread_of_their_own_not_on_a_thread_pool_worker()
    {
        // SQLite blocks in fsync; a pool worker waiting on the disk is one the SMTP sessions cannot use.
        await using var store = await OpenAsync(await NewLocationAsync());
        var threads = new List<(string? Name, bool Pooled)>();
        store.BeforeCommitForTests = _ =>
        {
            lock (threads)
            {
                threads.Add((Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread));
            }

            return Task.CompletedTask;
        };

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => store.WriteAsync($"t{i}", Body(100, i), ["example.com"], Ct)));
        await store.CommitAsync("t0", Ct);

        Assert.NotEmpty(threads);
        Assert.All(threads, t => Assert.Equal(("spool writer", false), t));
    }

    [Fact]
    public async Task Creates_the_directory_of_the_file()
    {
        var path = Path.Combine(directory, "nested", "deeper", "spool.db");
        await using var store = new SqliteSpoolStore(path);
        await store.InitializeAsync(Ct);
        await store.InitializeAsync(Ct); // idempotent

        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task Factory_builds_the_sqlite_store()
    {
        await using var store = SpoolStoreFactory.Create("sqlite", await NewLocationAsync(), logger: null);
        Assert.IsType<SqliteSpoolStore>(store);
        Assert.Throws<ArgumentException>(() => SpoolStoreFactory.Create("mysql", "x"));
    }

    [Fact]
    public async Task A_body_that_is_a_slice_of_a_larger_array_is_stored_exactly()
    {
        // The edge hands the spool a slice of a pooled buffer (header room in front, spare capacity behind).
        await using var store = await OpenAsync(await NewLocationAsync());
        var array = Body(70_000, seed: 7).ToArray();
        var slice = array.AsMemory(1_000, 50_000);
        await store.WriteAsync("slice", slice, ["example.com"], Ct);
        await store.WriteAsync("empty", ReadOnlyMemory<byte>.Empty, ["example.com"], Ct);

        Assert.Equal(slice.ToArray(), (await store.ReadAsync("slice", Ct)).Body.ToArray());
        var empty = await store.ReadAsync("empty", Ct);
        Assert.Equal(SpoolStatus.Uncommitted, empty.Status);
        Assert.True(empty.Body.IsEmpty);
        await Assert.ThrowsAsync<DuplicateMessageIdException>(() => store.WriteAsync("slice", slice, ["example.com"], Ct));
    }

    [Fact]
    public async Task Checkpoints_run_in_the_background_and_move_the_WAL_into_the_database_file()
    {
        var path = await NewLocationAsync();
        await using var store = new SqliteSpoolStore(path);
        await store.InitializeAsync(Ct);
        var before = new FileInfo(path).Length;

        // 6 MB of bodies: past SqliteCheckpointer.SignalBytes, far below the writer's own backstop (64 MB).
        for (var i = 0; i < 24; i++)
        {
            await store.WriteAsync($"m{i}", Body(256 * 1024, seed: i), ["example.com"], Ct);
        }

        for (var wait = 0; store.CheckpointsCompleted == 0 && wait < 100; wait++)
        {
            await Task.Delay(100, Ct);
        }

        Assert.True(store.CheckpointsCompleted > 0, "no background checkpoint ran");
        Assert.True(new FileInfo(path).Length > before + (4L * 1024 * 1024), "the bodies did not reach the database file");
        for (var i = 0; i < 24; i++)
        {
            Assert.Equal(Body(256 * 1024, seed: i).ToArray(), (await store.ReadAsync($"m{i}", Ct)).Body.ToArray());
        }

        await using var connection = await store.OpenConnectionAsync(Ct);
        Assert.Equal(2L, await ScalarAsync(connection, "PRAGMA synchronous")); // the checkpointer's connection is FULL too
    }

    protected override Task<string> NewLocationAsync() =>
        Task.FromResult(Path.Combine(directory, $"{Guid.NewGuid():N}", "spool.db"));

    protected override async Task<GroupCommitSpoolStore> OpenAsync(string location, GroupCommitOptions? options = null)
    {
        var store = new SqliteSpoolStore(location, logger: null, options);
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

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }

    [Fact]
    public Task Spool_references_name_the_domains_still_holding_a_message() => References_name_the_domains_still_holding_a_message(postgres: false);
}
