using System.Data.Common;
using Akka.Actor;
using MailCluster.Queue.Spool;
using MailCluster.Queue.WarmUp;
using MailCluster.Storage.Journal;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>
/// The journal compaction on the tables Akka.Persistence.Sql creates (a node's storage is started once to create
/// them), on embedded SQLite and on PostgreSQL: it deletes a domain queue's events below its latest snapshot, no
/// further than the readers' position, leaves other persistence ids alone, picks up where it stopped at the next
/// pass, and on PostgreSQL skips while another node holds its lock.
/// </summary>
public sealed class JournalCompactionTests(PostgresFixture postgres) : NodeDirectoryTest("compact"), IClassFixture<PostgresFixture>
{
    private const string A = "dq-a.test";
    private const string B = "dq-b.test";
    private const string Sharding = "/sharding/domain-queueCoordinator";

    [Fact]
    public async Task On_SQLite_it_deletes_covered_events_in_passes()
    {
        // In turns on the journal's thread, as a node runs it (StorageHosting), with the node's journal up.
        string path = StorageOptions.SqliteJournalPath(Directory);
        await StorageNode.RunAsync(new StorageOptions(), Directory, async services =>
        {
            await WarmUpAsync(services);
            var turns = new SqliteJournalTurns(services.GetRequiredService<ActorSystem>);
            await PassesAsync(new JournalCompaction(postgres: false, path, turns), () => new SqliteConnection($"Data Source={path};Pooling=False"));
        }, Ct);
    }

    [Fact]
    public async Task On_PostgreSQL_it_deletes_covered_events_in_passes()
    {
        var storage = new StorageOptions { Provider = SpoolStoreFactory.PostgreSql, ConnectionString = await postgres.NewDatabaseAsync() };
        await CreateTablesAsync(storage);
        await PassesAsync(new JournalCompaction(postgres: true, storage.ConnectionString), () => new NpgsqlConnection(storage.ConnectionString));
    }

    [Fact]
    public async Task On_PostgreSQL_a_pass_skips_while_another_node_holds_the_lock()
    {
        var storage = new StorageOptions { Provider = SpoolStoreFactory.PostgreSql, ConnectionString = await postgres.NewDatabaseAsync() };
        await CreateTablesAsync(storage);
        Func<DbConnection> open = () => new NpgsqlConnection(storage.ConnectionString);
        await AppendAsync(open, A, 1, 50);
        await SnapshotAsync(open, A, 40);
        var compaction = new JournalCompaction(postgres: true, storage.ConnectionString);

        await using (var other = new NpgsqlConnection(storage.ConnectionString))
        {
            await other.OpenAsync(Ct);
            await using var transaction = await other.BeginTransactionAsync(Ct);
            await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock(1296255555)", other, transaction)) // "MCJC"
            {
                await take.ExecuteScalarAsync(Ct);
            }

            Assert.Equal(0, await compaction.RunAsync(long.MaxValue, TimeSpan.Zero, Ct));
            Assert.Equal((50L, 1L), await RowsAsync(open, A));
        }

        Assert.Equal(39, await compaction.RunAsync(long.MaxValue, TimeSpan.Zero, Ct));
        Assert.Equal((11L, 40L), await RowsAsync(open, A));
    }

    /// <summary>Three passes over two queues (one larger than a transaction's range) and a persistence id of sharding's.</summary>
    private static async Task PassesAsync(JournalCompaction compaction, Func<DbConnection> open)
    {
        long lastOfA = await AppendAsync(open, A, 1, 2500); // orderings of A, then B's after them
        await AppendAsync(open, B, 1, 10);
        await AppendAsync(open, Sharding, 1, 30);
        await SnapshotAsync(open, A, 100);
        await SnapshotAsync(open, A, 2400); // the latest counts
        await SnapshotAsync(open, B, 5);
        await SnapshotAsync(open, Sharding, 30);
        long passed = lastOfA - 500; // the readers have passed A's events up to sequence number 2000

        // 1. Only what the readers have passed: A's 1-2000 (several transactions), none of B's.
        Assert.Equal(2000, await compaction.RunAsync(passed, TimeSpan.Zero, Ct));
        Assert.Equal((500L, 2001L), await RowsAsync(open, A));
        Assert.Equal((10L, 1L), await RowsAsync(open, B));
        Assert.Equal(2001, compaction.CompactedBelow[A]);
        Assert.Equal(1, compaction.CompactedBelow[B]);

        // 2. The readers caught up: the rest below each snapshot; the snapshot's own event and later ones stay.
        Assert.Equal(399 + 4, await compaction.RunAsync(long.MaxValue, TimeSpan.Zero, Ct));
        Assert.Equal((101L, 2400L), await RowsAsync(open, A));
        Assert.Equal((6L, 5L), await RowsAsync(open, B));
        Assert.Equal((30L, 1L), await RowsAsync(open, Sharding));

        // 3. Nothing new covered: nothing to do. Then a newer snapshot of A: only what it adds.
        Assert.Equal(0, await compaction.RunAsync(long.MaxValue, TimeSpan.Zero, Ct));
        await AppendAsync(open, A, 2501, 2600);
        await SnapshotAsync(open, A, 2550);
        Assert.Equal(150, await compaction.RunAsync(long.MaxValue, TimeSpan.Zero, Ct));
        Assert.Equal((51L, 2550L), await RowsAsync(open, A));

        // 4. A second compaction (another node's, or after a restart) finds nothing left to delete.
        var fresh = new JournalCompaction(compaction.IsPostgreSql, compaction.ConnectionString);
        Assert.Equal(0, await fresh.RunAsync(long.MaxValue, TimeSpan.Zero, Ct));
        Assert.Equal(2550, fresh.CompactedBelow[A]);
    }

    /// <summary>Starts a node's storage once, with the warm-up's write, so that the plugin creates its tables.</summary>
    private Task CreateTablesAsync(StorageOptions storage) => StorageNode.RunAsync(storage, Directory, WarmUpAsync, Ct);

    private static async Task WarmUpAsync(IServiceProvider services)
    {
        var result = await DurablePathWarmUp.RunAsync(services.GetRequiredService<ActorSystem>(), services.GetRequiredService<ISpoolStore>(), Ct);
        Assert.NotNull(result.JournalMs);
    }

    /// <summary>Appends events <paramref name="first"/> to <paramref name="last"/> of a persistence id; returns the
    /// ordering of the last.</summary>
    private static async Task<long> AppendAsync(Func<DbConnection> open, string persistenceId, long first, long last)
    {
        await using var connection = open();
        await connection.OpenAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        for (long sequence = first; sequence <= last; sequence++)
        {
            await using var insert = Command(connection, transaction,
                "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message) VALUES (@created, @deleted, @pid, @seq, @message)");
            Add(insert, "created", DateTime.UtcNow.Ticks);
            Add(insert, "deleted", false);
            Add(insert, "pid", persistenceId);
            Add(insert, "seq", sequence);
            Add(insert, "message", new byte[] { 1, 2, 3 });
            await insert.ExecuteNonQueryAsync(Ct);
        }

        await using var ordering = Command(connection, transaction, "SELECT MAX(ordering) FROM journal");
        long result = Convert.ToInt64(await ordering.ExecuteScalarAsync(Ct));
        await transaction.CommitAsync(Ct);
        return result;
    }

    private static async Task SnapshotAsync(Func<DbConnection> open, string persistenceId, long sequence)
    {
        await using var connection = open();
        await connection.OpenAsync(Ct);
        await using var insert = Command(connection, null,
            "INSERT INTO snapshot (persistence_id, sequence_number, created, snapshot, manifest, serializer_id) VALUES (@pid, @seq, @created, @snapshot, 'S', 1)");
        Add(insert, "pid", persistenceId);
        Add(insert, "seq", sequence);
        Add(insert, "created", DateTime.UtcNow.Ticks);
        Add(insert, "snapshot", new byte[] { 9 });
        await insert.ExecuteNonQueryAsync(Ct);
    }

    /// <summary>A persistence id's rows in the journal: how many, and the lowest sequence number.</summary>
    private static async Task<(long Rows, long Lowest)> RowsAsync(Func<DbConnection> open, string persistenceId)
    {
        await using var connection = open();
        await connection.OpenAsync(Ct);
        await using var select = Command(connection, null, "SELECT COUNT(*), MIN(sequence_number) FROM journal WHERE persistence_id = @pid");
        Add(select, "pid", persistenceId);
        await using var reader = await select.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string text)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = text;
        return command;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
