using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace MailCluster.Api.Idempotency;

/// <summary>The outcome of <see cref="IdempotencyStore.ClaimAsync"/>: the verdict and the record it was decided on.</summary>
public sealed record IdempotencyClaim(IdempotencyVerdict Verdict, IdempotencyRecord? Stored);

/// <summary>
/// Idempotency keys in the cluster database (table <c>mc_inject_idempotency</c>), so that a key holds across a restart
/// and across nodes: the shared PostgreSQL of a cluster, or <c>{DataDir}/inject.db</c> on the embedded single node
/// (WAL, <c>synchronous=FULL</c>). Keys are scoped by caller: two keys' clients never see each other's answers.
/// A claim reads and writes in one transaction (<c>SELECT … FOR UPDATE</c> on PostgreSQL, <c>BEGIN IMMEDIATE</c> on
/// SQLite). Records older than the retention are deleted at most every 10 minutes by the node that claims.
/// </summary>
public sealed class IdempotencyStore(bool postgres, string connectionString, TimeProvider clock) : IDisposable
{
    public const string SqliteFileName = "inject.db";

    private const string Table = "mc_inject_idempotency";

    private static readonly TimeSpan PurgeEvery = TimeSpan.FromMinutes(10);

    private readonly SemaphoreSlim _init = new(1, 1);
    private bool _initialized;
    private DateTimeOffset _lastPurge = DateTimeOffset.MinValue;

    public static IdempotencyStore Create(bool postgres, string connectionString, string dataDir, TimeProvider clock) =>
        new(postgres, postgres ? connectionString : new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(Path.GetFullPath(dataDir), SqliteFileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 10,
        }.ToString(), clock);

    public void Dispose() => _init.Dispose();

    /// <summary>Claims <paramref name="key"/> of <paramref name="caller"/> for a body, or says why not (see <see cref="IdempotencyDecision"/>).</summary>
    public async Task<IdempotencyClaim> ClaimAsync(string caller, string key, string bodySha256, TimeSpan lease, TimeSpan retention, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = postgres
            ? await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false)
            : ((SqliteConnection)connection).BeginTransaction(deferred: false);
        var stored = await ReadAsync(connection, transaction, caller, key, cancellationToken).ConfigureAwait(false);
        if (stored is null && postgres)
        {
            // Make the row exist so that FOR UPDATE has something to lock; a racing node's insert wins and is re-read.
            await ExecuteAsync(connection, transaction, $"INSERT INTO {Table}(caller, idem_key, body_sha256, state, created_at, claimed_at) VALUES (@caller, @key, @hash, 'pending', 0, 0) ON CONFLICT DO NOTHING", cancellationToken, ("caller", caller), ("key", key), ("hash", bodySha256)).ConfigureAwait(false);
            stored = await ReadAsync(connection, transaction, caller, key, cancellationToken).ConfigureAwait(false);
            stored = stored?.CreatedAt == DateTimeOffset.UnixEpoch ? null : stored; // our own placeholder
        }

        var verdict = IdempotencyDecision.Decide(stored, bodySha256, now, lease, retention);
        if (verdict == IdempotencyVerdict.Run)
        {
            var fresh = stored is null || stored.CreatedAt + retention <= now;
            await ExecuteAsync(
                connection,
                transaction,
                $"""
                INSERT INTO {Table}(caller, idem_key, body_sha256, state, status, response, created_at, claimed_at)
                VALUES (@caller, @key, @hash, 'pending', NULL, @response, @now, @now)
                ON CONFLICT (caller, idem_key) DO UPDATE SET body_sha256 = @hash, state = 'pending', status = NULL,
                    response = @response, created_at = @created, claimed_at = @now
                """,
                cancellationToken,
                ("caller", caller),
                ("key", key),
                ("hash", bodySha256),
                ("response", fresh ? null : stored!.Response),
                ("now", now.ToUnixTimeMilliseconds()),
                ("created", fresh ? now.ToUnixTimeMilliseconds() : stored!.CreatedAt.ToUnixTimeMilliseconds())).ConfigureAwait(false);
            stored = fresh ? null : stored;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (now - _lastPurge > PurgeEvery)
        {
            _lastPurge = now;
            await ExecuteAsync(connection, null, $"DELETE FROM {Table} WHERE created_at > 0 AND created_at < @cutoff", cancellationToken, ("cutoff", (now - retention).ToUnixTimeMilliseconds())).ConfigureAwait(false);
        }

        return new IdempotencyClaim(verdict, stored);
    }

    /// <summary>Stores the answer of a claimed key: <see cref="IdempotencyRecord.Done"/> for 200, else <see cref="IdempotencyRecord.Partial"/>.</summary>
    public async Task CompleteAsync(string caller, string key, int status, string response, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(
            connection,
            null,
            $"UPDATE {Table} SET state = @state, status = @status, response = @response WHERE caller = @caller AND idem_key = @key",
            cancellationToken,
            ("state", status == 200 ? IdempotencyRecord.Done : IdempotencyRecord.Partial),
            ("status", status),
            ("response", response),
            ("caller", caller),
            ("key", key)).ConfigureAwait(false);
    }

    /// <summary>Gives a claimed key back when the request ended without an answer worth keeping (a 429 or a database
    /// failure): a partial answer stays for the retry to complete, a fresh claim is removed.</summary>
    public async Task ReleaseAsync(string caller, string key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, $"DELETE FROM {Table} WHERE caller = @caller AND idem_key = @key AND state = 'pending' AND response IS NULL", cancellationToken, ("caller", caller), ("key", key)).ConfigureAwait(false);
        await ExecuteAsync(connection, null, $"UPDATE {Table} SET state = 'partial' WHERE caller = @caller AND idem_key = @key AND state = 'pending'", cancellationToken, ("caller", caller), ("key", key)).ConfigureAwait(false);
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_initialized)
        {
            return;
        }

        await _init.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_initialized)
            {
                await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
                var schema = $"""
                    CREATE TABLE IF NOT EXISTS {Table}(
                        caller TEXT NOT NULL,
                        idem_key TEXT NOT NULL,
                        body_sha256 TEXT NOT NULL,
                        state TEXT NOT NULL,
                        status INTEGER NULL,
                        response TEXT NULL,
                        created_at BIGINT NOT NULL,
                        claimed_at BIGINT NOT NULL,
                        PRIMARY KEY (caller, idem_key));
                    """;
                await ExecuteAsync(connection, null, postgres ? schema : "PRAGMA journal_mode=WAL;" + schema, cancellationToken).ConfigureAwait(false);
                _initialized = true;
            }
        }
        finally
        {
            _init.Release();
        }
    }

    private async Task<IdempotencyRecord?> ReadAsync(DbConnection connection, DbTransaction transaction, string caller, string key, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT body_sha256, state, status, response, created_at, claimed_at FROM {Table} WHERE caller = @caller AND idem_key = @key" + (postgres ? " FOR UPDATE" : "");
        Add(command, "caller", caller);
        Add(command, "key", key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new IdempotencyRecord(
            reader.GetString(0),
            reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetInt32(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = postgres ? new NpgsqlConnection(connectionString) : new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (!postgres)
        {
            await ExecuteAsync(connection, null, "PRAGMA synchronous=FULL;", cancellationToken).ConfigureAwait(false);
        }

        return connection;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
#pragma warning disable CA2100 // The SQL is constant text of this class; values travel as parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            Add(command, name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@" + name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}
