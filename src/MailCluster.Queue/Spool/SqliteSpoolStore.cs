using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace MailCluster.Queue.Spool;

/// <summary>
/// Spool in its own SQLite file (e.g. <c>{DataDir}/spool.db</c>) for the embedded single-node setup.
/// Every connection it opens runs <c>journal_mode=WAL</c> (readers never block the writer) and
/// <c>synchronous=FULL</c> (each commit is fsync'd, so a completed call survives power loss: DESIGN
/// invariant 1). Only this process may use the file (DESIGN: never share one SQLite file between nodes).
/// </summary>
public sealed class SqliteSpoolStore : GroupCommitSpoolStore
{
    /// <summary>How long a statement waits for a lock held by another connection before failing.</summary>
    private const int BusyTimeoutMilliseconds = 10_000;

    private const string Pragmas =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS mc_spool(
            message_id TEXT PRIMARY KEY NOT NULL,
            body BLOB NOT NULL,
            committed INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS mc_spool_ref(
            message_id TEXT NOT NULL,
            domain TEXT NOT NULL,
            PRIMARY KEY(message_id, domain)) WITHOUT ROWID;
        """;

    private readonly string connectionString;

    public SqliteSpoolStore(string path, ILogger? logger = null, GroupCommitOptions? options = null)
        : base(options, logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = BusyTimeoutMilliseconds / 1000,
        }.ToString();
    }

    public string Path { get; }

    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, null, Schema, cancellationToken).ConfigureAwait(false);
        }
    }

    public override async Task<SpoolEntry> ReadAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT committed, body FROM mc_spool WHERE message_id = $id";
            command.Parameters.AddWithValue("$id", messageId);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return SpoolEntry.Missing;
                }

                var status = reader.GetInt64(0) != 0 ? SpoolStatus.Committed : SpoolStatus.Uncommitted;
                return new SpoolEntry(status, reader.GetFieldValue<byte[]>(1));
            }
        }
    }

    public override async Task PingAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, null, "SELECT 1", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Opens a (pooled) connection with the store's PRAGMAs applied. Every path uses this.</summary>
    internal async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, null, Pragmas, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private protected override async Task<Exception?[]> ApplyBatchAsync(IReadOnlyList<SpoolOp> ops, Func<Task> beforeCommit)
    {
        var connection = await OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // BEGIN IMMEDIATE: take the write lock up front rather than fail to upgrade a read lock mid-batch.
            var transaction = connection.BeginTransaction(deferred: false);
            await using (transaction.ConfigureAwait(false))
            {
                var results = new Exception?[ops.Count];
                for (var i = 0; i < ops.Count; i++)
                {
                    results[i] = await ApplyAsync(connection, transaction, ops[i]).ConfigureAwait(false);
                }

                await beforeCommit().ConfigureAwait(false);
                await transaction.CommitAsync().ConfigureAwait(false);
                return results;
            }
        }
    }

    private protected override ValueTask DisposeCoreAsync()
    {
        // Pooled connections keep the file (and its WAL) open; close them so the file can be moved or reopened.
        using var connection = new SqliteConnection(connectionString);
        SqliteConnection.ClearPool(connection);
        return ValueTask.CompletedTask;
    }

    private async Task<Exception?> ApplyAsync(SqliteConnection connection, SqliteTransaction transaction, SpoolOp op)
    {
        var id = op.MessageId;
        switch (op)
        {
            case WriteOp write:
                var inserted = await ExecuteAsync(
                    connection,
                    transaction,
                    "INSERT INTO mc_spool(message_id, body, committed, created_at) VALUES($id, $body, 0, $now) ON CONFLICT(message_id) DO NOTHING",
                    CancellationToken.None,
                    ("$id", id),
                    ("$body", AsArray(write.Body)),
                    ("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())).ConfigureAwait(false);
                if (inserted == 0)
                {
                    return DuplicateMessageIdException.For(id);
                }

                foreach (var domain in write.Domains)
                {
                    await ExecuteAsync(connection, transaction, "INSERT OR IGNORE INTO mc_spool_ref(message_id, domain) VALUES($id, $domain)", CancellationToken.None, ("$id", id), ("$domain", domain)).ConfigureAwait(false);
                }

                return null;

            case CommitOp:
                var updated = await ExecuteAsync(connection, transaction, "UPDATE mc_spool SET committed = 1 WHERE message_id = $id", CancellationToken.None, ("$id", id)).ConfigureAwait(false);
                return updated == 0 ? SpoolMessageNotFoundException.For(id) : null;

            case ReleaseOp release:
                await ExecuteAsync(connection, transaction, "DELETE FROM mc_spool_ref WHERE message_id = $id AND domain = $domain", CancellationToken.None, ("$id", id), ("$domain", release.Domain)).ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, "DELETE FROM mc_spool WHERE message_id = $id AND NOT EXISTS (SELECT 1 FROM mc_spool_ref WHERE message_id = $id)", CancellationToken.None, ("$id", id)).ConfigureAwait(false);
                return null;

            case DeleteUncommittedOp:
                var deleted = await ExecuteAsync(connection, transaction, "DELETE FROM mc_spool WHERE message_id = $id AND committed = 0", CancellationToken.None, ("$id", id)).ConfigureAwait(false);
                if (deleted > 0)
                {
                    await ExecuteAsync(connection, transaction, "DELETE FROM mc_spool_ref WHERE message_id = $id", CancellationToken.None, ("$id", id)).ConfigureAwait(false);
                }
                else
                {
                    SpoolLog.DeleteOfCommittedIgnored(Logger, id);
                }

                return null;

            default:
                throw new NotSupportedException($"Unknown spool operation {op.GetType().Name}.");
        }
    }

    /// <summary>SQLite binds byte[] only; avoid a copy when the caller's memory already is a whole array.</summary>
    private static byte[] AsArray(ReadOnlyMemory<byte> body) =>
        MemoryMarshal.TryGetArray(body, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : body.ToArray();

    private static async Task<int> ExecuteAsync(
        SqliteConnection connection,
        SqliteTransaction? transaction,
        string sql,
        CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
