using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace MailCluster.Storage.Journal;

/// <summary>
/// Deletes the domain queues' journal events that a snapshot already covers. Akka.Persistence recovers a queue from
/// its latest snapshot and the events after it, so an event whose sequence number is below that snapshot's is never
/// read again by the queue; without this the journal (<c>journal.db</c> or PostgreSQL's <c>journal</c> table) grows with
/// every message ever accepted. Only persistence ids of domain queues (<c>dq-</c>) are touched (not sharding's own);
/// the event at the snapshot's sequence number and everything after it stay, so the highest sequence number of each
/// queue is always in the table (the plugin numbers the next event from it). Events above the other journal readers'
/// position (<see cref="Queue.Contracts.IJournalReaders"/>, the delivery-events projection) stay until they have been
/// read. Deletes in batches of <see cref="BatchSize"/> rows, each its own short transaction, so the journal's writer
/// (one at a time on SQLite) is never held for long.
/// </summary>
public sealed class JournalCompaction(bool postgres, string connectionString)
{
    public const int BatchSize = 2000;

    /// <summary>The PostgreSQL advisory lock key of the compaction ("MCJC").</summary>
    private const long AdvisoryLock = 0x4D434A43;

    private const string Batch = """
        DELETE FROM journal WHERE ordering IN (
            SELECT j.ordering FROM journal j
            JOIN (SELECT persistence_id, MAX(sequence_number) AS covered FROM snapshot
                  WHERE persistence_id LIKE 'dq-%' GROUP BY persistence_id) s ON s.persistence_id = j.persistence_id
            WHERE j.sequence_number < s.covered AND j.ordering <= @passed
            LIMIT @batch)
        """;

    /// <summary>Deletes batches until one deletes fewer than <see cref="BatchSize"/> rows, pausing
    /// <paramref name="pause"/> between batches; returns the number of events deleted.</summary>
    public async Task<long> RunAsync(long passed, TimeSpan pause, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            int deleted = await DeleteBatchAsync(passed, ct).ConfigureAwait(false);
            total += deleted;
            if (deleted < BatchSize)
            {
                return total;
            }

            await Task.Delay(pause, ct).ConfigureAwait(false);
        }
    }

    private async Task<int> DeleteBatchAsync(long passed, CancellationToken ct)
    {
        await using DbConnection connection = postgres
            ? new NpgsqlConnection(connectionString)
            : new SqliteConnection($"Data Source={connectionString};Pooling=False;Default Timeout=30");
        await connection.OpenAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        if (postgres)
        {
            // Nodes of a cluster share the table: one compacts at a time (the others find the lock taken and skip).
            await using var lockCommand = connection.CreateCommand();
            lockCommand.Transaction = transaction;
            lockCommand.CommandText = $"SELECT pg_try_advisory_xact_lock({AdvisoryLock})";
            if (await lockCommand.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true)
            {
                return 0;
            }
        }

        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = Batch;
        Add(command, "passed", passed);
        Add(command, "batch", BatchSize);
        int deleted = await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return deleted;
    }

    private static void Add(DbCommand command, string name, long value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
