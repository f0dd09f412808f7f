using System.Data.Common;
using MailCluster.Queue.Spool;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace MailCluster.Storage;

/// <summary>
/// Spool in PostgreSQL, shared by every node of a cluster (tables <c>mc_spool</c> and <c>mc_spool_ref</c>).
/// A batch is sent as ONE <see cref="NpgsqlBatch"/> (one round-trip) inside one transaction, set-wise where it can be
/// (<see cref="PostgresSpoolBatch"/>: a statement per kind of operation, not per operation); a completed call is committed. Rows touched by commit/release/delete are locked first, in id order, so that two
/// nodes releasing the last two references of one body cannot both miss the "no refs left" moment
/// (write skew under READ COMMITTED) and so that concurrent batches cannot deadlock on each other.
/// </summary>
public sealed class PostgresSpoolStore : GroupCommitSpoolStore
{
    /// <summary>Deadlock and serialization failures roll the whole transaction back, so a retry is safe.</summary>
    private const int MaxAttempts = 3;

    private const string Schema = """
        SELECT pg_advisory_xact_lock(hashtext('mc_spool_schema'));
        CREATE TABLE IF NOT EXISTS mc_spool(
            message_id text PRIMARY KEY,
            body bytea NOT NULL,
            committed boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS mc_spool_ref(
            message_id text NOT NULL,
            domain text NOT NULL,
            PRIMARY KEY(message_id, domain));
        CREATE INDEX IF NOT EXISTS mc_spool_age ON mc_spool(created_at, message_id);
        """;

    // The orphan sweep's listing: a range of the age index up to the cutoff (never the whole table), then the references
    // of that page's bodies by primary key. The cutoff is the database's clock, which stamped created_at.
    private const string ListAgedSql = """
        SELECT s.message_id, s.created_at, r.domain
        FROM (SELECT message_id, created_at FROM mc_spool
              WHERE created_at < now() - make_interval(secs => $1) AND committed = $2 AND (created_at, message_id) > ($3, $4)
              ORDER BY created_at, message_id LIMIT $5) AS s
        LEFT JOIN mc_spool_ref AS r ON r.message_id = s.message_id
        ORDER BY s.created_at, s.message_id, r.domain
        """;

    // RecordsAffected = references inserted; 0 means the body insert hit an existing id (a write always has >= 1 domain).
    private const string WriteSql = """
        WITH ins AS (
            INSERT INTO mc_spool(message_id, body) VALUES ($1, $2)
            ON CONFLICT (message_id) DO NOTHING RETURNING message_id)
        INSERT INTO mc_spool_ref(message_id, domain)
        SELECT ins.message_id, d FROM ins CROSS JOIN unnest($3::text[]) AS d
        ON CONFLICT DO NOTHING
        """;

    /// <summary>Statements kept prepared per connection: the spool sends the same few (write, commit, release, delete,
    /// lock, read) for every message.</summary>
    internal const int AutoPrepareStatements = 16;

    private readonly NpgsqlDataSource dataSource;
    private readonly PostgresSpoolReads reads;
    private long setWiseBatches;
    private long oneByOneBatches;

    public PostgresSpoolStore(string connectionString, ILogger? logger = null, GroupCommitOptions? options = null)
        : base(options, logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        dataSource = NpgsqlDataSource.Create(WithAutoPrepare(connectionString));
        reads = new PostgresSpoolReads(dataSource);
    }

    /// <summary>
    /// The connection string the spool (and the journal, StorageHosting) uses:
    /// <list type="bullet">
    /// <item>Npgsql's automatic preparation turned on (a statement executed twice on a connection is prepared there, so
    /// PostgreSQL parses and plans it once per connection instead of once per message: CPU of the database per message,
    /// not a round trip), unless the operator's string sets <c>Max Auto Prepare</c> itself (0 turns it off, e.g. behind
    /// a PgBouncer in transaction mode older than 1.21, which cannot keep prepared statements).</item>
    /// <item>No session reset when a connection goes back to the pool (<c>No Reset On Close</c>), unless the string sets
    /// it: by default Npgsql resets every pooled connection before its next use, with DISCARD ALL, or, once statements
    /// are prepared, seven statements (RESET ALL, CLOSE ALL, UNLISTEN *, pg_advisory_unlock_all(), ...), which profiling
    /// counted at 3.5 statements per accepted message. These connections never change session state (no SET, LISTEN,
    /// temporary table or session advisory lock; the schema lock is transaction-scoped), so there is nothing to reset.</item>
    /// </list>
    /// Durability is untouched: the same statements run in the same transactions.
    /// </summary>
    internal static string WithAutoPrepare(string connectionString)
    {
        // Npgsql's builder answers ContainsKey for every keyword it knows, set or not: ask the string as written.
        var written = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var keys = written.Keys.Cast<string>().Select(key => key.Replace(" ", "", StringComparison.Ordinal)).ToList();
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!keys.Any(key => key.Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        {
            builder.MaxAutoPrepare = AutoPrepareStatements;
            builder.AutoPrepareMinUsages = 2;
        }

        if (!keys.Any(key => key.Equals("NoResetOnClose", StringComparison.OrdinalIgnoreCase)))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }

    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        // The advisory lock serialises nodes starting together: concurrent CREATE TABLE IF NOT EXISTS can
        // otherwise fail with a unique violation in the catalog.
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await using var command = new NpgsqlCommand(Schema, connection, transaction);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Batched with the reads of other deliveries in flight (<see cref="PostgresSpoolReads"/>).</summary>
    public override Task<SpoolEntry> ReadAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        return reads.ReadAsync(messageId, cancellationToken);
    }

    /// <summary>Read statements executed so far (tests: concurrent reads share them).</summary>
    internal long ReadStatements => reads.Statements;

    /// <summary>Test seam: see <see cref="PostgresSpoolReads.BeforeStatementForTests"/>.</summary>
    internal Func<int, Task>? BeforeReadStatementForTests
    {
        get => reads.BeforeStatementForTests;
        set => reads.BeforeStatementForTests = value;
    }

    private protected override async Task<AgedBodyPage> ListAgedAsync(bool committed, TimeSpan minAge, SpoolAgeCursor? after, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ListAgedSql);
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = minAge.TotalSeconds });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = committed });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = after?.CreatedAt.UtcDateTime ?? DateTime.UnixEpoch });
        command.Parameters.Add(Text(after?.MessageId ?? ""));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var rows = new List<(string, DateTimeOffset, string?)>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var createdAt = new DateTimeOffset(reader.GetFieldValue<DateTime>(1), TimeSpan.Zero);
                rows.Add((reader.GetString(0), createdAt, reader.IsDBNull(2) ? null : reader.GetString(2)));
            }
        }

        return AgedBodyPage.FromRows(rows, limit);
    }

    public override async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Transactions committed in the set-wise form (tests: the usual path is the set-wise one).</summary>
    internal long SetWiseBatches => Interlocked.Read(ref setWiseBatches);

    /// <summary>Transactions committed one statement per operation (mixed kinds on one id, or a rejected call).</summary>
    internal long OneByOneBatches => Interlocked.Read(ref oneByOneBatches);

    private protected override async Task<Exception?[]> ApplyBatchAsync(IReadOnlyList<SpoolOp> ops, Func<Task> beforeCommit)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ApplyOnceAsync(ops, beforeCommit).ConfigureAwait(false);
            }
            catch (PostgresException e) when (attempt < MaxAttempts && e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                SpoolLog.BatchRetry(Logger, ops.Count, e.SqlState, attempt + 1);
            }
        }
    }

    private protected override ValueTask DisposeCoreAsync() => dataSource.DisposeAsync();

    /// <summary>One transaction: the set-wise form when the batch allows it (<see cref="PostgresSpoolBatch"/>), else, or
    /// when a set-wise statement touched fewer rows than expected (rolled back), one statement per operation.</summary>
    private async Task<Exception?[]> ApplyOnceAsync(IReadOnlyList<SpoolOp> ops, Func<Task> beforeCommit)
    {
        if (PostgresSpoolBatch.TryPlan(ops) is { } plan
            && await ApplyInTransactionAsync(ops, batch => plan.AddTo(batch), plan.Results, beforeCommit).ConfigureAwait(false) is { } results)
        {
            Interlocked.Increment(ref setWiseBatches);
            return results;
        }

        var decisive = new int[ops.Count];
        var oneByOne = (await ApplyInTransactionAsync(
            ops,
            batch =>
            {
                // Which batch command decides each op's result (-1: none, the op cannot be rejected).
                for (var i = 0; i < ops.Count; i++)
                {
                    decisive[i] = AddOperation(batch, ops[i]);
                }
            },
            batch => OneByOneResults(ops, batch, decisive),
            beforeCommit).ConfigureAwait(false))!;
        Interlocked.Increment(ref oneByOneBatches);
        return oneByOne;
    }

    /// <summary>Runs the row locks and <paramref name="add"/>'s statements as ONE <see cref="NpgsqlBatch"/> (one round
    /// trip) in one transaction, then commits, unless <paramref name="results"/> answers null: then rolls back.</summary>
    private async Task<Exception?[]?> ApplyInTransactionAsync(
        IReadOnlyList<SpoolOp> ops, Action<NpgsqlBatch> add, Func<NpgsqlBatch, Exception?[]?> results, Func<Task> beforeCommit)
    {
        var connection = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await using var batch = new NpgsqlBatch(connection, transaction);
                var lockIds = ops.Where(op => op is not WriteOp).Select(op => op.MessageId)
                    .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
                if (lockIds.Length > 0)
                {
                    Add(batch, "SELECT message_id FROM mc_spool WHERE message_id = ANY($1) ORDER BY message_id FOR UPDATE", Text(lockIds));
                }

                add(batch);
                await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
                if (results(batch) is not { } outcome)
                {
                    await transaction.RollbackAsync().ConfigureAwait(false);
                    return null;
                }

                await beforeCommit().ConfigureAwait(false);
                await transaction.CommitAsync().ConfigureAwait(false);
                return outcome;
            }
        }
    }

    private static Exception?[] OneByOneResults(IReadOnlyList<SpoolOp> ops, NpgsqlBatch batch, int[] decisive)
    {
        var results = new Exception?[ops.Count];
        for (var i = 0; i < ops.Count; i++)
        {
            if (decisive[i] >= 0 && batch.BatchCommands[decisive[i]].RecordsAffected == 0)
            {
                results[i] = ops[i] is WriteOp
                    ? DuplicateMessageIdException.For(ops[i].MessageId)
                    : SpoolMessageNotFoundException.For(ops[i].MessageId);
            }
        }

        return results;
    }

    private static int AddOperation(NpgsqlBatch batch, SpoolOp op)
    {
        var id = op.MessageId;
        switch (op)
        {
            case WriteOp write:
                return Add(batch, WriteSql, Text(id), new NpgsqlParameter<ReadOnlyMemory<byte>> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = write.Body }, Text(write.Domains));

            case CommitOp:
                return Add(batch, "UPDATE mc_spool SET committed = true WHERE message_id = $1", Text(id));

            case ReleaseOp release:
                Add(batch, "DELETE FROM mc_spool_ref WHERE message_id = $1 AND domain = $2", Text(id), Text(release.Domain));
                Add(batch, "DELETE FROM mc_spool WHERE message_id = $1 AND NOT EXISTS (SELECT 1 FROM mc_spool_ref WHERE message_id = $1)", Text(id));
                return -1;

            case DeleteUncommittedOp:
                // References go first, and only while the body is still uncommitted.
                Add(batch, "DELETE FROM mc_spool_ref WHERE message_id = $1 AND NOT EXISTS (SELECT 1 FROM mc_spool WHERE message_id = $1 AND committed)", Text(id));
                Add(batch, "DELETE FROM mc_spool WHERE message_id = $1 AND NOT committed", Text(id));
                return -1;

            default:
                throw new NotSupportedException($"Unknown spool operation {op.GetType().Name}.");
        }
    }

    private static int Add(NpgsqlBatch batch, string sql, params NpgsqlParameter[] parameters) => PostgresSpoolBatch.Add(batch, sql, parameters);

    private static NpgsqlParameter<string> Text(string value) => PostgresSpoolBatch.Text(value);

    private static NpgsqlParameter<string[]> Text(string[] values) => PostgresSpoolBatch.Text(values);
}
