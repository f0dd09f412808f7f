using LinqToDB.Data;
using MailCluster.Storage.Journal;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>
/// The SQLite journal's connections wait for another writer with SQLite's busy handler (a busy timeout), not with
/// Microsoft.Data.Sqlite's 150 ms sleep: the connections linq2db opens for Akka.Persistence.Sql with the node's
/// options carry the timeout, and a connection of another kind is left alone.
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
    public async Task The_journal_options_open_connections_with_a_busy_timeout()
    {
        using var journal = new DataConnection(StorageHosting.SqliteJournalOptions(directory));
        var connection = await journal.OpenDbConnectionAsync(Ct);

        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout";
        Assert.Equal(SqliteBusyTimeout.Journal.Milliseconds, Convert.ToInt32(await pragma.ExecuteScalarAsync(Ct)));
        Assert.Equal(StorageOptions.SqliteJournalPath(directory), ((SqliteConnection)connection).DataSource);
    }

    [Fact]
    public async Task Apply_sets_the_timeout_of_an_open_SQLite_connection()
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "x.db")};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout";
        Assert.Equal(0L, await pragma.ExecuteScalarAsync(Ct));

        new SqliteBusyTimeout(2500).Apply(connection);

        Assert.Equal(2500L, await pragma.ExecuteScalarAsync(Ct));
    }
}
