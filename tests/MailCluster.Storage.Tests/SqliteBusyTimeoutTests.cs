using MailCluster.Storage.Journal;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>
/// The compaction's SQLite connections wait for another writer with SQLite's busy handler (a busy timeout), not with
/// Microsoft.Data.Sqlite's 150 ms sleep.
/// </summary>
public sealed class SqliteBusyTimeoutTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mc-busy-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Apply_sets_the_timeout_of_an_open_SQLite_connection()
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "x.db")};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout";
        Assert.Equal(0L, await pragma.ExecuteScalarAsync(Ct));

        SqliteBusyTimeout.Apply(connection, 2500);

        Assert.Equal(2500L, await pragma.ExecuteScalarAsync(Ct));
    }
}
