using MailCluster.Queue.Tables;
using Xunit;

namespace MailCluster.Queue.Tests.Tables;

/// <summary>The one SQLite setup: directory and schema created on demand, WAL journal, synchronous=FULL per connection,
/// and a pragma never counted as a write's changed rows.</summary>
public sealed class SqliteDatabaseTests : IDisposable
{
    private const string Schema = "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT NOT NULL);";
    private readonly string _dir = Directory.CreateTempSubdirectory("mc-sqlite-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Creates_the_directory_and_schema_in_wal_with_full_sync_and_counts_only_the_rows_a_write_changed()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = new SqliteDatabase(Path.Combine(_dir, "nested", "access.db"), Schema);

        await db.EnsureCreatedAsync(ct);
        Assert.Equal("wal", Assert.Single(await db.QueryAsync("PRAGMA journal_mode;", r => r.GetString(0), ct)));
        Assert.Equal(2L, Assert.Single(await db.QueryAsync("PRAGMA synchronous;", r => r.GetInt64(0), ct))); // 2 = FULL
        Assert.Equal(1, await db.ExecuteAsync("INSERT INTO t(id, v) VALUES (1, 'a')", _ => { }, ct));
        Assert.Equal(0, await db.ExecuteAsync("UPDATE t SET v = $v WHERE id = 2", c => c.Parameters.AddWithValue("$v", "b"), ct));
        Assert.Equal("a", Assert.Single(await db.QueryAsync("SELECT v FROM t WHERE id = $id", c => c.Parameters.AddWithValue("$id", 1), r => r.GetString(0), ct)));
    }
}
