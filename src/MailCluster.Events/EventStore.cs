using System.Data.Common;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace MailCluster.Events;

/// <summary>
/// The delivery events and webhooks tables (issue 16) on the node's database: <c>&lt;DataDir&gt;/events.db</c> (SQLite,
/// WAL, one node) or the cluster's PostgreSQL (tables <c>mc_event*</c>, <c>mc_webhook*</c>). New tables only; the
/// journal is read through Akka.Persistence.Query, never written here.
/// <para><b>Offsets.</b> <c>event_offset</c> is the table's own sequence, in commit order: every append takes one
/// lock first (PostgreSQL: a transaction-scoped advisory lock; SQLite: its single writer), so a reader that saw offset
/// n never later sees a new row below n. A reader paging by "after n" therefore misses nothing.</para>
/// </summary>
public sealed partial class EventStore
{
    private const string AppendLock = "SELECT pg_advisory_xact_lock(hashtext('mc_event_append'));";
    private readonly NpgsqlDataSource? _postgres;
    private readonly string? _sqlite;
    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private EventStore(NpgsqlDataSource? postgres, string? sqlite) => (_postgres, _sqlite) = (postgres, sqlite);

    public static EventStore Postgres(string connectionString) => new(NpgsqlDataSource.Create(PostgresPooling.WithoutReset(connectionString)), null);

    public static EventStore Sqlite(string path) => new(null, $"Data Source={path};Pooling=True");

    public bool IsPostgres => _postgres is not null;

    /// <summary>Completes once <see cref="InitializeAsync"/> has created the schema through this instance: what the node
    /// starts beside the initializer (projections, webhook delivery) waits for it, rather than failing on a table that
    /// is not there yet and logging it, as each did on a fresh node's first start.</summary>
    public Task Initialized => _initialized.Task;

    private string Serial => IsPostgres ? "bigserial PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";

    public async Task InitializeAsync(CancellationToken ct)
    {
        var schema = $"""
            CREATE TABLE IF NOT EXISTS mc_event(
                event_offset {Serial},
                event_id text NOT NULL UNIQUE,
                type text NOT NULL,
                queue_id text NOT NULL,
                recipient text NOT NULL,
                at_ms bigint NOT NULL,
                record text NOT NULL);
            CREATE INDEX IF NOT EXISTS mc_event_queue_id ON mc_event(queue_id);
            CREATE INDEX IF NOT EXISTS mc_event_recipient ON mc_event(recipient);
            CREATE INDEX IF NOT EXISTS mc_event_at ON mc_event(at_ms);
            CREATE TABLE IF NOT EXISTS mc_event_message(queue_id text PRIMARY KEY, context text NOT NULL, at_ms bigint NOT NULL);
            CREATE TABLE IF NOT EXISTS mc_event_projection(name text PRIMARY KEY, journal_offset bigint NOT NULL);
            CREATE TABLE IF NOT EXISTS mc_webhook(
                id text PRIMARY KEY,
                url text NOT NULL,
                secret text NOT NULL,
                events text NOT NULL,
                batch_size integer NOT NULL,
                max_retry_seconds integer NULL,
                origin text NOT NULL,
                created_ms bigint NOT NULL);
            CREATE TABLE IF NOT EXISTS mc_webhook_cursor(
                id text PRIMARY KEY,
                event_offset bigint NOT NULL,
                failing_since_ms bigint NULL,
                failed_events bigint NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS mc_webhook_attempt(
                seq {Serial},
                webhook_id text NOT NULL,
                at_ms bigint NOT NULL,
                first_offset bigint NOT NULL,
                last_offset bigint NOT NULL,
                events integer NOT NULL,
                status integer NULL,
                answer text NULL,
                error text NULL,
                duration_ms bigint NOT NULL,
                result text NOT NULL);
            CREATE INDEX IF NOT EXISTS mc_webhook_attempt_hook ON mc_webhook_attempt(webhook_id, seq);
            """;
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        if (!IsPostgres)
        {
            await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL;", ct).ConfigureAwait(false);
        }

        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        if (IsPostgres)
        {
            // Nodes starting together: concurrent CREATE TABLE IF NOT EXISTS can fail in the catalog (as for the spool).
            await ExecuteAsync(connection, tx, "SELECT pg_advisory_xact_lock(hashtext('mc_event_schema'));", ct).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, tx, schema, ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        _initialized.TrySetResult();
    }

    public async Task<long> ProjectionOffsetAsync(string name, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT journal_offset FROM mc_event_projection WHERE name = @name", ("name", name));
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } value and not DBNull ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    public async Task<Dictionary<string, MessageContext>> ContextsAsync(IReadOnlyCollection<string> queueIds, CancellationToken ct)
    {
        var found = new Dictionary<string, MessageContext>(StringComparer.Ordinal);
        if (queueIds.Count == 0)
        {
            return found;
        }

        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        foreach (var chunk in queueIds.Chunk(QueueIdsPerStatement))
        {
            await using var command = ForQueueIds(connection, null, "SELECT queue_id, context FROM mc_event_message", chunk);
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                found[reader.GetString(0)] = MessageContext.FromJson(reader.GetString(1));
            }
        }

        return found;
    }

    private const int QueueIdsPerStatement = 200;

    /// <summary><paramref name="sql"/> restricted to the context rows of <paramref name="queueIds"/> (one parameter each).</summary>
    private static DbCommand ForQueueIds(DbConnection connection, DbTransaction? tx, string sql, string[] queueIds) =>
        Command(connection, tx, $"{sql} WHERE queue_id IN ({string.Join(", ", queueIds.Select((_, i) => $"@q{i}"))})",
            [.. queueIds.Select((id, i) => ($"q{i}", (object?)id))]);

    /// <summary>One atomic step of the projection: its events, the contexts they changed and the journal offset read.</summary>
    /// <param name="finished">Queue ids of messages finished in this batch: their contexts are deleted.</param>
    public async Task<IReadOnlyList<long>> CommitProjectionAsync(
        string name, IReadOnlyList<DeliveryEvent> events, IEnumerable<MessageContext> contexts, long journalOffset, DateTimeOffset now, CancellationToken ct,
        IReadOnlyCollection<string>? finished = null)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var offsets = await AppendAsync(connection, tx, events, ct).ConfigureAwait(false);
        if (IsPostgres)
        {
            await PostgresEventWrites.UpsertContextsAsync(connection, tx, contexts, now, ct).ConfigureAwait(false);
        }
        else
        {
            await UpsertContextsAsync(connection, tx, contexts, now, ct).ConfigureAwait(false);
        }

        foreach (var chunk in (finished ?? []).Chunk(QueueIdsPerStatement))
        {
            await using var delete = ForQueueIds(connection, tx, "DELETE FROM mc_event_message", chunk);
            await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, tx, """
            INSERT INTO mc_event_projection(name, journal_offset) VALUES (@name, @offset)
            ON CONFLICT (name) DO UPDATE SET journal_offset = excluded.journal_offset
            """, ct, ("name", name), ("offset", journalOffset)).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return offsets;
    }

    /// <summary>SQLite: one command for the batch's contexts, its parameters rebound per row (prepared once; in process,
    /// so a statement per row costs no round trip).</summary>
    private static async Task UpsertContextsAsync(DbConnection connection, DbTransaction tx, IEnumerable<MessageContext> contexts, DateTimeOffset now, CancellationToken ct)
    {
        DbCommand? upsert = null;
        try
        {
            foreach (var context in contexts)
            {
                upsert ??= Command(connection, tx, """
                    INSERT INTO mc_event_message(queue_id, context, at_ms) VALUES (@id, @context, @at)
                    ON CONFLICT (queue_id) DO UPDATE SET context = excluded.context, at_ms = excluded.at_ms
                    """, ("id", ""), ("context", ""), ("at", now.ToUnixTimeMilliseconds()));
                upsert.Parameters["@id"].Value = context.QueueId;
                upsert.Parameters["@context"].Value = context.ToJson();
                await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }
        finally
        {
            if (upsert is not null)
            {
                await upsert.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Appends events written outside the projection (Suppressed); an id already stored is skipped.</summary>
    public async Task<IReadOnlyList<long>> AppendAsync(IReadOnlyList<DeliveryEvent> events, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var offsets = await AppendAsync(connection, tx, events, ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return offsets;
    }

    private async Task<IReadOnlyList<long>> AppendAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<DeliveryEvent> events, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return [];
        }

        if (IsPostgres)
        {
            await ExecuteAsync(connection, tx, AppendLock, ct).ConfigureAwait(false);
            return await PostgresEventWrites.AppendAsync(connection, tx, events, ct).ConfigureAwait(false);
        }

        var offsets = new List<long>(events.Count);
        await using var command = Command(connection, tx, """
            INSERT INTO mc_event(event_id, type, queue_id, recipient, at_ms, record) VALUES (@id, @type, @queue, @recipient, @at, @record)
            ON CONFLICT (event_id) DO NOTHING RETURNING event_offset
            """, ("id", ""), ("type", ""), ("queue", ""), ("recipient", ""), ("at", 0L), ("record", ""));
        foreach (var e in events)
        {
            command.Parameters["@id"].Value = e.EventId;
            command.Parameters["@type"].Value = e.Type;
            command.Parameters["@queue"].Value = e.QueueId ?? "";
            command.Parameters["@recipient"].Value = e.Recipient.ToLowerInvariant();
            command.Parameters["@at"].Value = e.Timestamp.ToUnixTimeMilliseconds();
            command.Parameters["@record"].Value = e.ToJson();
            if (await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } offset and not DBNull)
            {
                offsets.Add(Convert.ToInt64(offset, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return offsets;
    }

    /// <summary>Events after <see cref="EventQuery.After"/> in offset order, each as its JSON record with <c>offset</c> first.</summary>
    public async Task<IReadOnlyList<StoredEvent>> QueryAsync(EventQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = new StringBuilder("SELECT event_offset, type, record FROM mc_event WHERE event_offset > @after");
        var parameters = new List<(string, object?)> { ("after", query.After), ("limit", query.Limit) };
        if (query.QueueId is { } queueId)
        {
            sql.Append(" AND queue_id = @queue");
            parameters.Add(("queue", queueId));
        }

        if (query.Recipient is { } recipient)
        {
            sql.Append(" AND recipient = @recipient");
            parameters.Add(("recipient", recipient.ToLowerInvariant()));
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND at_ms >= @since");
            parameters.Add(("since", since.ToUnixTimeMilliseconds()));
        }

        if (query.Types is { Count: > 0 } types && types.Count < EventTypes.All.Count)
        {
            sql.Append(" AND type IN (").Append(string.Join(", ", types.Select((_, i) => $"@t{i}"))).Append(')');
            parameters.AddRange(types.Select((t, i) => ($"t{i}", (object?)t)));
        }

        sql.Append(" ORDER BY event_offset LIMIT @limit");
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var command = Command(connection, null, sql.ToString(), [.. parameters]);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var found = new List<StoredEvent>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            found.Add(new StoredEvent(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        }

        return found;
    }

    public async Task<long> MaxOffsetAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT COALESCE(MAX(event_offset), 0) FROM mc_event");
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The most events one pruning transaction deletes.</summary>
    public const int PruneBatch = 5000;

    /// <summary>Deletes events older than <paramref name="before"/>, oldest first, in transactions of at most
    /// <paramref name="batch"/> rows (along the <c>at_ms</c> index) with <paramref name="pause"/> between them, then message
    /// contexts not touched since <paramref name="contextsBefore"/>; returns the events deleted. One DELETE of every
    /// expired row, as before, held the store's writer (and the projection behind it) for as long as it took to delete
    /// an hour of a busy node's events, millions of rows, and grew SQLite's WAL by as much. An event a webhook has not
    /// had yet (past the lowest <c>mc_webhook_cursor</c>) is kept whatever its age: a short retention never drops what a
    /// failing webhook is still retrying (its cursor moves on when the batch succeeds or its retries run out).</summary>
    public async Task<long> PruneAsync(DateTimeOffset before, DateTimeOffset contextsBefore, CancellationToken ct, int batch = PruneBatch, TimeSpan pause = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        long total = 0;
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        long sent;
        await using (var lowest = Command(connection, null, "SELECT MIN(event_offset) FROM mc_webhook_cursor"))
        {
            sent = await lowest.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } value and not DBNull
                ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)
                : long.MaxValue;
        }

        while (true)
        {
            int deleted = await ExecuteAsync(connection, null, """
                DELETE FROM mc_event WHERE event_offset IN (
                    SELECT event_offset FROM mc_event WHERE at_ms < @before AND event_offset <= @sent ORDER BY at_ms LIMIT @batch)
                """, ct, ("before", before.ToUnixTimeMilliseconds()), ("sent", sent), ("batch", batch)).ConfigureAwait(false);
            total += deleted;
            if (deleted < batch)
            {
                break;
            }

            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, ct).ConfigureAwait(false);
            }
        }

        await ExecuteAsync(connection, null, "DELETE FROM mc_event_message WHERE at_ms < @before", ct, ("before", contextsBefore.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        return total;
    }

    private async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(ct).ConfigureAwait(false);
        }

        var sqlite = new SqliteConnection(_sqlite);
        await sqlite.OpenAsync(ct).ConfigureAwait(false);

        // SQLite's own busy handler rather than Microsoft.Data.Sqlite's 150 ms sleeps while the pruning holds the writer.
        SQLitePCL.raw.sqlite3_busy_timeout(sqlite.Handle, 10_000);
        return sqlite;
    }

    internal static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = "@" + name;
            p.Value = value ?? DBNull.Value;
            command.Parameters.Add(p);
        }

        return command;
    }

    internal static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, tx, sql, parameters);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}

/// <param name="After">Only offsets above this one.</param>
/// <param name="Types">Only these types (canonical spelling); null or all of them: no filter.</param>
public sealed record EventQuery(long After, int Limit, string? QueueId = null, string? Recipient = null, DateTimeOffset? Since = null, IReadOnlyList<string>? Types = null);

/// <summary>A stored event: its offset, type and JSON record (without the offset).</summary>
public sealed record StoredEvent(long Offset, string Type, string Record)
{
    /// <summary>The record with <c>"offset": n</c> as its first property, as the API and webhooks send it.</summary>
    public string WithOffset() => "{\"offset\":" + Offset.ToString(System.Globalization.CultureInfo.InvariantCulture) + "," + Record[1..];
}
