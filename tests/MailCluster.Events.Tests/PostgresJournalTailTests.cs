using System.Text;
using MailCluster.Testing;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Xunit;

namespace MailCluster.Events.Tests;

/// <summary>
/// <see cref="PostgresJournalTail"/> against a real PostgreSQL: concurrent writers commit out of ordering order, and a
/// rolled-back writer leaves an ordering that is never filled. The table has the columns of Akka.Persistence.Sql's
/// journal that the tail reads (T92 runs the tail on a real node's journal).
/// </summary>
public sealed class PostgresJournalTailTests : IAsyncLifetime
{
    private const int QueueSerializer = 940;
    private PostgresServer _server = null!;
    private string _connectionString = "";

    public async ValueTask InitializeAsync()
    {
        _server = await PostgresServer.StartAsync();
        _connectionString = await _server.CreateDatabaseAsync("tail");
        await ExecuteAsync("CREATE TABLE journal (ordering BIGSERIAL PRIMARY KEY, identifier INTEGER NOT NULL, manifest VARCHAR(500) NOT NULL, message BYTEA NOT NULL)");
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_row_committed_after_a_higher_one_is_not_skipped()
    {
        await InsertAsync("a");
        await using var open = await BeginAsync();
        await InsertAsync("b", open.Connection, open.Transaction); // ordering 2, in flight
        await InsertAsync("c");                                     // ordering 3, committed first

        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cursor = new JournalGapCursor(0);
        Assert.Equal(["a"], await ReadAsync(cursor, clock));
        Assert.True(cursor.Waiting);

        clock.Advance(JournalGapCursor.MinGapAge * 2); // old enough, but its transaction is still running
        Assert.Empty(await ReadAsync(cursor, clock));

        await open.Transaction.CommitAsync();
        Assert.Equal(["b", "c"], await ReadAsync(cursor, clock));
        Assert.Equal(3, cursor.After);
    }

    [Fact]
    public async Task A_rolled_back_ordering_is_passed_over_and_rows_of_other_serializers_are_not_handed_on()
    {
        await InsertAsync("a");
        await using (var open = await BeginAsync())
        {
            await InsertAsync("lost", open.Connection, open.Transaction); // ordering 2
            await open.Transaction.RollbackAsync();
        }

        await InsertAsync("other", serializer: 1); // ordering 3: another plugin's row (no payload handed on)
        await InsertAsync("c");                   // ordering 4

        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cursor = new JournalGapCursor(0);
        Assert.Equal(["a"], await ReadAsync(cursor, clock));
        Assert.Empty(await ReadAsync(cursor, clock)); // too young to pass
        clock.Advance(JournalGapCursor.MinGapAge);
        Assert.Equal(["c"], await ReadAsync(cursor, clock));
        Assert.Equal(4, cursor.After);
    }

    [Fact]
    public async Task A_row_whose_manifest_is_not_read_is_handed_on_undeserialized_with_its_ordering()
    {
        await InsertAsync("a");
        await InsertAsync("b", manifest: "skip");
        await InsertAsync("c");

        var cursor = new JournalGapCursor(0);
        var read = new List<string>();
        var events = await PostgresJournalTail.ReadAsync(
            _connectionString, QueueSerializer, (bytes, _) => { var s = Encoding.UTF8.GetString(bytes); read.Add(s); return s; }, cursor,
            new FakeTimeProvider(DateTimeOffset.UtcNow), manifest => manifest != "skip");

        Assert.Equal([1L, 2, 3], events.Select(e => e.Ordering));
        Assert.Same(UnreadJournalRow.Instance, events[1].Event);
        Assert.Equal(["a", "c"], read);
        Assert.Equal(3, cursor.After);
    }

    [Fact]
    public async Task An_empty_journal_reads_nothing_and_the_cursor_stays()
    {
        var cursor = new JournalGapCursor(0);
        Assert.Empty(await ReadAsync(cursor, new FakeTimeProvider()));
        Assert.Equal(0, cursor.After);
    }

    [Fact]
    public async Task A_database_without_the_journal_table_yet_reads_as_empty()
    {
        var fresh = await _server.CreateDatabaseAsync("fresh");
        var cursor = new JournalGapCursor(0);
        Assert.Empty(await PostgresJournalTail.ReadAsync(fresh, QueueSerializer, (_, _) => new object(), cursor, new FakeTimeProvider()));
        Assert.Equal(0, cursor.After);
    }

    [Fact]
    public void A_sqlite_journal_without_the_table_yet_reads_as_empty()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("mc-tail-").FullName, "journal.db");
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}"))
        {
            connection.Open(); // creates the file, no table
        }

        Assert.Empty(SqliteJournalTail.Read(path, QueueSerializer, (_, _) => new object(), 0));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    private async Task<List<string>> ReadAsync(JournalGapCursor cursor, TimeProvider clock)
    {
        var events = await PostgresJournalTail.ReadAsync(
            _connectionString, QueueSerializer, (bytes, manifest) => $"{manifest}:{Encoding.UTF8.GetString(bytes)}", cursor, clock);
        return [.. events.Select(e => ((string)e.Event).Split(':')[1])];
    }

    private async Task<OpenTransaction> BeginAsync()
    {
        var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        return new OpenTransaction(connection, await connection.BeginTransactionAsync());
    }

    private async Task InsertAsync(string body, NpgsqlConnection? connection = null, NpgsqlTransaction? transaction = null, int serializer = QueueSerializer, string manifest = "m")
    {
        var own = connection is null;
        connection ??= new NpgsqlConnection(_connectionString);
        if (own)
        {
            await connection.OpenAsync();
        }

        await using var command = new NpgsqlCommand("INSERT INTO journal (identifier, manifest, message) VALUES (@i, @m, @b)", connection, transaction);
        command.Parameters.AddWithValue("i", serializer);
        command.Parameters.AddWithValue("m", manifest);
        command.Parameters.AddWithValue("b", Encoding.UTF8.GetBytes(body));
        await command.ExecuteNonQueryAsync();
        if (own)
        {
            await connection.DisposeAsync();
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private sealed record OpenTransaction(NpgsqlConnection Connection, NpgsqlTransaction Transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Transaction.DisposeAsync();
            await Connection.DisposeAsync();
        }
    }
}
