using System.Collections.Concurrent;
using MailCluster.Queue.Spool;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace MailCluster.Storage;

/// <summary>
/// Spool in its own SQLite file (e.g. <c>{DataDir}/spool.db</c>) for the embedded single-node setup.
/// Every connection that writes runs <c>journal_mode=WAL</c> (readers never block the writer) and
/// <c>synchronous=FULL</c> (each commit is fsync'd, so a completed call survives power loss: DESIGN
/// invariant 1). Only this process may use the file (DESIGN: never share one SQLite file between nodes).
/// Writes go through one long-lived connection with prepared statements (<see cref="SqliteSpoolWriter"/>);
/// reads open a pooled connection without the PRAGMAs, which only matter to a writer.
/// <para>Bodies of at least <c>fileThreshold</c> bytes are kept as files beside the database (<see cref="SpoolBodyFiles"/>,
/// table <c>mc_spool_file</c>); their <c>mc_spool</c> row has an empty body. Rows written by earlier releases (every
/// body in the row) are read as before. The table is added, no existing table changes shape.</para>
/// </summary>
public sealed class SqliteSpoolStore : GroupCommitSpoolStore, ISpoolFileSweep
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
        CREATE INDEX IF NOT EXISTS mc_spool_age ON mc_spool(created_at, message_id);
        CREATE TABLE IF NOT EXISTS mc_spool_file(
            message_id TEXT PRIMARY KEY NOT NULL,
            file_name TEXT NOT NULL UNIQUE,
            length INTEGER NOT NULL) WITHOUT ROWID;
        """;

    private const string ReadSql = """
        SELECT s.committed, s.body, f.file_name, f.length
        FROM mc_spool AS s LEFT JOIN mc_spool_file AS f ON f.message_id = s.message_id
        WHERE s.message_id = $id
        """;

    // The orphan sweep's listing: a range of the age index up to the cutoff (never the whole table), then the references
    // of that page's bodies by primary key. The body column is not read.
    private const string ListAgedSql = """
        SELECT s.message_id, s.created_at, r.domain
        FROM (SELECT message_id, created_at FROM mc_spool
              WHERE created_at < $cutoff AND committed = $committed AND (created_at, message_id) > ($afterAt, $afterId)
              ORDER BY created_at, message_id LIMIT $limit) AS s
        LEFT JOIN mc_spool_ref AS r ON r.message_id = s.message_id
        ORDER BY s.created_at, s.message_id, r.domain
        """;

    private readonly string connectionString;
    private readonly SqliteSpoolWriter writer;
    private readonly SqliteCheckpointer checkpointer;
    private readonly int fileThreshold;
    private readonly ConcurrentDictionary<Task, byte> fileWrites = new();

    /// <param name="fileThreshold">Bodies of at least this many bytes go to files; 0 keeps every body in the database.</param>
    public SqliteSpoolStore(string path, ILogger? logger = null, GroupCommitOptions? options = null, int fileThreshold = 0)
        : base((options ?? GroupCommitOptions.Default) with { DedicatedThread = true }, logger)
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
        ArgumentOutOfRangeException.ThrowIfNegative(fileThreshold);
        this.fileThreshold = fileThreshold;
        Files = new SpoolBodyFiles(BodyDirectoryOf(Path));
        checkpointer = new SqliteCheckpointer(OpenConnectionAsync, Logger);
        writer = new SqliteSpoolWriter(OpenConnectionAsync, checkpointer.Written, DeleteReleasedFiles);
    }

    public string Path { get; }

    /// <summary>Where the body files of the spool at <paramref name="databasePath"/> live: <c>spool.db</c> → <c>spool-bodies/</c>.</summary>
    public static string BodyDirectoryOf(string databasePath) =>
        System.IO.Path.ChangeExtension(System.IO.Path.GetFullPath(databasePath), null) + "-bodies";

    internal SpoolBodyFiles Files { get; }

    /// <summary>Background WAL checkpoints completed so far.</summary>
    internal int CheckpointsCompleted => checkpointer.Completed;

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

        Files.Initialize();
    }

    public override async Task<SpoolEntry> ReadAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);

        // A reader needs none of the writer's PRAGMAs: WAL is a property of the file (set by the writer before any
        // body exists), synchronous only matters for commits, and SQLITE_BUSY is retried up to DefaultTimeout.
        var connection = new SqliteConnection(connectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = ReadSql;
            command.Parameters.AddWithValue("$id", messageId);
            SpoolStatus status;
            (string Name, long Length) file;
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return SpoolEntry.Missing;
                }

                status = reader.GetInt64(0) != 0 ? SpoolStatus.Committed : SpoolStatus.Uncommitted;
                if (reader.IsDBNull(2))
                {
                    return new SpoolEntry(status, reader.GetFieldValue<byte[]>(1));
                }

                file = (reader.GetString(2), reader.GetInt64(3));
            }

            // The file was durable before its row committed; it is gone only if the body was released since the row
            // was read (the last reference dropped), which is what Missing says.
            var body = await Files.ReadAsync(file.Name, file.Length, cancellationToken).ConfigureAwait(false);
            return body is { } read ? new SpoolEntry(status, read) : SpoolEntry.Missing;
        }
    }

    /// <summary>Below the file threshold the body is one row, inserted already committed in one batch (a body file is
    /// written before its row is queued, and keeps the two steps).</summary>
    public override bool WritesCommittedAtOnce(int length) => fileThreshold == 0 || length < fileThreshold;

    /// <summary>One operation, so one transaction: the row, its references and the commit flag, or nothing.</summary>
    public override Task WriteCommittedAsync(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains, CancellationToken cancellationToken) =>
        WritesCommittedAtOnce(body.Length)
            ? EnqueueAsync(NewWrite(messageId, body, domains) with { Committed = true }, cancellationToken)
            : base.WriteCommittedAsync(messageId, body, domains, cancellationToken);

    /// <summary>Bodies of at least the threshold are written to a durable file first (on a pool thread, in parallel with
    /// other sessions' bodies), and the batch only inserts the row that names it.</summary>
    private protected override Task WriteCoreAsync(WriteOp op, CancellationToken cancellationToken)
    {
        if (fileThreshold == 0 || op.Body.Length < fileThreshold)
        {
            return EnqueueAsync(op, cancellationToken);
        }

        // Tracked until done: disposal waits for it (a call made before disposal is applied, as the contract says).
        var write = WriteFileThenRowAsync(op, cancellationToken);
        fileWrites.TryAdd(write, 0);
        _ = write.ContinueWith(done => fileWrites.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return write;
    }

    private protected override Task BeforeDisposeAsync() =>
        Task.WhenAll(fileWrites.Keys).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private async Task WriteFileThenRowAsync(WriteOp op, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var name = await Task.Run(() => Files.Write(op.Body.Span), cancellationToken).ConfigureAwait(false);
        try
        {
            await EnqueueAsync(op with { Body = ReadOnlyMemory<byte>.Empty, BodyFile = new BodyFileRef(name, op.Body.Length) }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DuplicateMessageIdException or OperationCanceledException or ObjectDisposedException)
        {
            // Certainly no row names the file (a duplicate id inserts nothing; a cancelled op never joined a batch; a
            // disposed store queues nothing).
            // After any other failure the batch's outcome may be unknown: the file is left to the orphan sweep.
            Files.Delete(name);
            throw;
        }
    }

    /// <summary>Deletes body files older than <paramref name="minAge"/> that no row names (see <see cref="SpoolBodyFiles"/>).</summary>
    public async Task<int> SweepOrphanFilesAsync(TimeSpan minAge, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minAge, TimeSpan.Zero);
        var connection = new SqliteConnection(connectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1 FROM mc_spool_file WHERE file_name = $name";
            var parameter = command.Parameters.Add("$name", SqliteType.Text);
            var deleted = 0;
            foreach (var name in Files.ListOlderThan(DateTime.UtcNow - minAge))
            {
                parameter.Value = name;
                if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
                {
                    Files.Delete(name);
                    deleted++;
                }
            }

            return deleted;
        }
    }

    /// <remarks>Ages are measured with this process's clock, the one that stamped <c>created_at</c> (only this
    /// process uses the file).</remarks>
    private protected override async Task<AgedBodyPage> ListAgedAsync(bool committed, TimeSpan minAge, SpoolAgeCursor? after, int limit, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = ListAgedSql;
            command.Parameters.AddWithValue("$cutoff", (DateTimeOffset.UtcNow - minAge).ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$committed", committed ? 1 : 0);
            command.Parameters.AddWithValue("$afterAt", after?.CreatedAt.ToUnixTimeMilliseconds() ?? long.MinValue);
            command.Parameters.AddWithValue("$afterId", after?.MessageId ?? "");
            command.Parameters.AddWithValue("$limit", limit);
            var rows = new List<(string, DateTimeOffset, string?)>();
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows.Add((reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.IsDBNull(2) ? null : reader.GetString(2)));
                }
            }

            return AgedBodyPage.FromRows(rows, limit);
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

    private protected override Task<Exception?[]> ApplyBatchAsync(IReadOnlyList<SpoolOp> ops, Func<Task> beforeCommit) =>
        writer.ApplyAsync(ops, beforeCommit, id => SpoolLog.DeleteOfCommittedIgnored(Logger, id));

    private protected override async ValueTask DisposeCoreAsync()
    {
        await writer.DisposeAsync().ConfigureAwait(false);
        await checkpointer.DisposeAsync().ConfigureAwait(false);

        // Pooled connections keep the file (and its WAL) open; close them so the file can be moved or reopened.
        using var connection = new SqliteConnection(connectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <summary>Runs on the writer after a batch that deleted rows naming files committed. A file that cannot be deleted
    /// now is an orphan the sweep deletes later.</summary>
    private void DeleteReleasedFiles(IReadOnlyList<string> names)
    {
        foreach (var name in names)
        {
            try
            {
                Files.Delete(name);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                SpoolLog.BodyFileNotDeleted(Logger, ex, name);
            }
        }
    }

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
