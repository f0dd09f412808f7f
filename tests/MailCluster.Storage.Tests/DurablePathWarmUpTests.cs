using Akka.Actor;
using MailCluster.Queue.Spool;
using MailCluster.Queue.WarmUp;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>
/// The durable path's warm-up (issue 18, target 3) against the real stores of a node: Akka.Persistence.Sql's journal
/// and snapshot store and the spool, on embedded SQLite and on PostgreSQL. It must leave nothing behind (no live
/// event, no body) and run again at the next start (the sequence number after its deleted event).
/// </summary>
public sealed class DurablePathWarmUpTests(PostgresFixture postgres) : NodeDirectoryTest("warm"), IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task On_SQLite_it_runs_every_start_and_leaves_no_event_and_no_body()
    {
        var storage = new StorageOptions();
        await RunTwiceAsync(storage);

        await using var journal = new SqliteConnection($"Data Source={StorageOptions.SqliteJournalPath(Directory)}");
        await journal.OpenAsync(Ct);
        await using var command = new SqliteCommand(Rows, journal);
        Assert.Equal("1,0,2", await command.ExecuteScalarAsync(Ct)); // one row, deleted, written by the second start
    }

    [Fact]
    public async Task On_PostgreSQL_it_runs_every_start_and_leaves_no_event_and_no_body()
    {
        var storage = new StorageOptions { Provider = SpoolStoreFactory.PostgreSql, ConnectionString = await postgres.NewDatabaseAsync() };
        await RunTwiceAsync(storage);

        await using var journal = new NpgsqlConnection(storage.ConnectionString);
        await journal.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(Rows, journal);
        Assert.Equal("1,0,2", await command.ExecuteScalarAsync(Ct)); // one row, deleted, written by the second start
    }

    [Fact]
    public async Task Nodes_that_start_together_on_one_PostgreSQL_database_all_finish_it()
    {
        // Their writes of the same id's next sequence number collide on the journal's unique key: expected, not a failure
        // (before, every node but one logged an error with a stack trace and a "did not finish" warning at each start).
        var storage = new StorageOptions { Provider = SpoolStoreFactory.PostgreSql, ConnectionString = await postgres.NewDatabaseAsync() };
        using var together = new Barrier(4);
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(n => Task.Run(async () =>
        {
            DurablePathWarmUpResult? result = null;
            await StorageNode.RunAsync(storage, Path.Combine(Directory, $"node{n}"), async services =>
            {
                var system = services.GetRequiredService<ActorSystem>();
                together.SignalAndWait(TimeSpan.FromSeconds(30), Ct);
                result = await DurablePathWarmUp.RunAsync(system, null, Ct);
            }, Ct);
            return result;
        }, Ct)));

        Assert.All(results, r => Assert.NotNull(r?.JournalMs));
    }

    /// <summary>The warm-up's rows: "rows, live rows, highest sequence number". The plugin keeps the highest sequence
    /// number's row, marked deleted, so that the next start numbers its event after it.</summary>
    private const string Rows = $"""
        SELECT COUNT(*) || ',' || SUM(CASE WHEN deleted THEN 0 ELSE 1 END) || ',' || MAX(sequence_number)
        FROM journal WHERE persistence_id = '{JournalWarmUpActor.Id}'
        """;

    /// <summary>Two starts of a node's storage, each with the warm-up; checks the spool after each.</summary>
    private async Task RunTwiceAsync(StorageOptions storage)
    {
        for (var start = 0; start < 2; start++)
        {
            await StorageNode.RunAsync(storage, Directory, async services =>
            {
                var result = await DurablePathWarmUp.RunAsync(services.GetRequiredService<ActorSystem>(), services.GetRequiredService<ISpoolStore>(), Ct);

                Assert.NotNull(result.JournalMs);
                Assert.NotNull(result.SpoolMs);
                var inventory = services.GetRequiredService<ISpoolInventory>();
                Assert.Empty((await inventory.ListOldUncommittedAsync(TimeSpan.Zero, null, 10, Ct)).Bodies);
                Assert.Empty((await inventory.ListOldReferencesAsync(TimeSpan.Zero, null, 10, Ct)).Bodies);
            }, Ct);
        }
    }
}
