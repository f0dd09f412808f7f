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
/// read.
/// <para>
/// The work goes queue by queue along the unique index (persistence id, sequence number): each short transaction
/// deletes one queue's range of at most <see cref="BatchSize"/> sequence numbers, and the compaction remembers per
/// queue where its covered events end (<see cref="CompactedBelow"/>), so a pass deletes only what the snapshots taken
/// since the last pass cover and never rescans what it cannot delete yet. (The first design deleted by a join of the
/// whole journal with the snapshots, 2,000 rows at a time; each batch's cost was mostly that join and the rescan, and
/// the 30-minute soak's p99 rose in every minute a pass ran.) Each range starts at the queue's lowest event left (one
/// index lookup), so what is already gone, a queue met for the first time or ranges another node compacted, costs
/// nothing. Each transaction holds SQLite's one writer for a few milliseconds (on SQLite without an fsync of its own,
/// and the WAL it writes checkpointed by the compaction itself); it runs in a turn of <paramref
/// name="turns"/>, on SQLite between the journal's own writes on their thread (<see cref="SqliteJournalTurns"/>), so a
/// journal write never finds it holding the lock (and would wait in Microsoft.Data.Sqlite's 150 ms retry if it did).
/// </para>
/// </summary>
public sealed class JournalCompaction(bool postgres, string connectionString, JournalTurns? turns = null)
{
    private readonly JournalTurns turns = turns ?? JournalTurns.Inline;

    public bool IsPostgreSql => postgres;

    /// <summary>The SQLite journal's path, or the PostgreSQL connection string.</summary>
    public string ConnectionString => connectionString;

    /// <summary>The most sequence numbers one transaction deletes: on SQLite a short turn on the journal's thread
    /// (about 3 ms), on PostgreSQL a short transaction beside the journal's.</summary>
    public int BatchSize => postgres ? 1000 : 250;

    /// <summary>On SQLite, every this many deleting transactions (and at the end of a pass) the compaction copies the
    /// WAL into the database itself (a passive checkpoint on its own connection, beside the journal's writes), so
    /// that the pages its deletes wrote are not checkpointed by the journal's next commit, on the journal's thread.</summary>
    private const int CheckpointEvery = 20;

    /// <summary>The PostgreSQL advisory lock key of the compaction ("MCJC").</summary>
    private const long AdvisoryLock = 0x4D434A43;

    private const string Covered = """
        SELECT persistence_id, MAX(sequence_number) FROM snapshot WHERE persistence_id LIKE 'dq-%' GROUP BY persistence_id
        """;

    private const string Lowest = "SELECT MIN(sequence_number) FROM journal WHERE persistence_id = @pid AND sequence_number >= @from";

    private const string DeleteRange = """
        DELETE FROM journal
        WHERE persistence_id = @pid AND sequence_number >= @from AND sequence_number < @to AND ordering <= @passed
        """;

    /// <summary>What a range keeps: the lowest sequence number of an event the readers have not passed yet.</summary>
    private const string Kept = """
        SELECT MIN(sequence_number) FROM journal WHERE persistence_id = @pid AND sequence_number >= @from AND sequence_number < @to
        """;

    private readonly Dictionary<string, long> _compactedBelow = new(StringComparer.Ordinal);

    /// <summary>Per queue, the sequence number below which this compaction has deleted every event.</summary>
    public IReadOnlyDictionary<string, long> CompactedBelow => _compactedBelow;

    /// <summary>Deletes, queue by queue, the events below each queue's latest snapshot whose ordering is at most
    /// <paramref name="passed"/>, pausing <paramref name="pause"/> after each transaction that deleted something;
    /// returns the number of events deleted. On PostgreSQL a pass ends early when another node holds the lock.</summary>
    public async Task<long> RunAsync(long passed, TimeSpan pause, CancellationToken ct)
    {
        long total = 0;
        int uncheckpointed = 0;
        foreach (var (persistenceId, covered) in await ReadCoveredAsync(ct).ConfigureAwait(false))
        {
            long from = _compactedBelow.GetValueOrDefault(persistenceId);
            while (from < covered)
            {
                // Skips what is already gone: a queue met for the first time, or ranges another node compacted.
                from = Math.Min(covered, await LowestAsync(persistenceId, from, ct).ConfigureAwait(false) ?? covered);
                _compactedBelow[persistenceId] = from;
                if (from == covered)
                {
                    break;
                }

                long to = Math.Min(covered, from + BatchSize);
                var chunk = await turns.RunAsync(() => DeleteRangeAsync(persistenceId, from, to, passed, ct), ct).ConfigureAwait(false);
                if (chunk is not var (deleted, kept))
                {
                    return total; // PostgreSQL: another node is compacting the shared table
                }

                total += deleted;
                _compactedBelow[persistenceId] = kept ?? to;
                if (deleted > 0)
                {
                    if (!postgres && ++uncheckpointed == CheckpointEvery)
                    {
                        await CheckpointAsync(ct).ConfigureAwait(false);
                        uncheckpointed = 0;
                    }

                    await Task.Delay(pause, ct).ConfigureAwait(false);
                }

                if (kept is not null)
                {
                    break; // an event the readers have not passed: from there again at the next pass
                }

                from = to;
            }
        }

        if (uncheckpointed > 0)
        {
            await CheckpointAsync(ct).ConfigureAwait(false);
        }

        return total;
    }

    /// <summary>SQLite: a passive checkpoint (it waits for no reader and no writer, and the journal's writes go on
    /// appending to the WAL meanwhile).</summary>
    private async Task CheckpointAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(deletes: false, ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private async Task<List<(string PersistenceId, long Covered)>> ReadCoveredAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(deletes: false, ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = Covered;
        var covered = new List<(string, long)>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            covered.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return covered;
    }

    /// <summary>A queue's lowest sequence number at or above <paramref name="from"/>; null when it has none.</summary>
    private async Task<long?> LowestAsync(string persistenceId, long from, CancellationToken ct)
    {
        await using var connection = await OpenAsync(deletes: false, ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = Lowest;
        Add(command, "pid", persistenceId);
        Add(command, "from", from);
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is long lowest ? lowest : null;
    }

    /// <summary>One transaction: deletes a queue's range and reads what of it stays; null when the PostgreSQL lock is
    /// taken.</summary>
    private async Task<(long Deleted, long? Kept)?> DeleteRangeAsync(string persistenceId, long from, long to, long passed, CancellationToken ct)
    {
        await using var connection = await OpenAsync(deletes: true, ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        if (postgres)
        {
            // Nodes of a cluster share the table: one compacts at a time (the others find the lock taken and skip).
            await using var lockCommand = connection.CreateCommand();
            lockCommand.Transaction = transaction;
            lockCommand.CommandText = $"SELECT pg_try_advisory_xact_lock({AdvisoryLock})";
            if (await lockCommand.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true)
            {
                return null;
            }
        }

        await using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = DeleteRange;
        AddRange(delete, persistenceId, from, to);
        Add(delete, "passed", passed);
        int deleted = await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);

        await using var kept = connection.CreateCommand();
        kept.Transaction = transaction;
        kept.CommandText = Kept;
        AddRange(kept, persistenceId, from, to);
        long? lowestKept = await kept.ExecuteScalarAsync(ct).ConfigureAwait(false) is long k ? k : null;
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return (deleted, lowestKept);
    }

    /// <param name="deletes">The connection of a delete transaction: on SQLite at <c>synchronous=NORMAL</c>.</param>
    private async Task<DbConnection> OpenAsync(bool deletes, CancellationToken ct)
    {
        DbConnection connection = postgres
            ? new NpgsqlConnection(connectionString)
            : new SqliteConnection($"Data Source={connectionString};Pooling=False;Default Timeout=30");
        await connection.OpenAsync(ct).ConfigureAwait(false);
        SqliteBusyTimeout.Apply(connection);
        if (deletes && !postgres)
        {
            // Its deletes need no fsync of their own (WAL mode stays consistent; a delete lost in a power failure is
            // redone by the next pass after the restart, and the journal's next commit syncs the WAL anyway): the
            // turn on the journal's thread is the delete alone.
            await using var synchronous = connection.CreateCommand();
            synchronous.CommandText = "PRAGMA synchronous=NORMAL";
            await synchronous.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        return connection;
    }

    private static void AddRange(DbCommand command, string persistenceId, long from, long to)
    {
        Add(command, "pid", persistenceId);
        Add(command, "from", from);
        Add(command, "to", to);
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
