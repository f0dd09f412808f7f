using MailCluster.Queue.Spool;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.Queue.Tests.Spool;

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

    protected override Task<string> NewLocationAsync() =>
        Task.FromResult(Path.Combine(directory, $"{Guid.NewGuid():N}", "spool.db"));

    protected override async Task<GroupCommitSpoolStore> OpenAsync(string location, GroupCommitOptions? options = null)
    {
        var store = new SqliteSpoolStore(location, logger: null, options);
        await store.InitializeAsync(Ct);
        return store;
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }
}
