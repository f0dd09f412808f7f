using MailCluster.Queue.Tables;
using Npgsql;
using NpgsqlTypes;

namespace MailCluster.Ops.Tasks;

/// <summary>Tasks in the cluster's shared PostgreSQL (table <c>mc_ops_task</c>), visible to and resumable by every node.
/// Lease times come from the nodes' clocks (the stale bound, seconds, is far above their skew).</summary>
public sealed class PostgresTaskStore : ITaskStore
{
    // The advisory lock serialises nodes starting together, as for the token table.
    private const string Schema = """
        SELECT pg_advisory_xact_lock(hashtext('mc_ops_task_schema'));
        CREATE TABLE IF NOT EXISTS mc_ops_task(
            id text PRIMARY KEY,
            action text NOT NULL,
            filter_json text NOT NULL,
            state text NOT NULL,
            done bigint NOT NULL,
            skipped bigint NOT NULL,
            owner text NOT NULL,
            resumed integer NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            created_by text NOT NULL,
            error text NULL);
        CREATE INDEX IF NOT EXISTS mc_ops_task_created ON mc_ops_task(created_at);
        """;

    private readonly NpgsqlDataSource dataSource;

    public PostgresTaskStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        dataSource = NpgsqlDataSource.Create(connectionString);
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresSchema.CreateAsync(dataSource, Schema, cancellationToken);

    public async Task CreateAsync(BulkTask task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        await using var command = dataSource.CreateCommand($"INSERT INTO mc_ops_task({TaskRows.Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
        command.Parameters.Add(Text(task.Id));
        command.Parameters.Add(Text(TaskRows.ActionName(task.Action)));
        command.Parameters.Add(Text(TaskRows.FilterJson(task.Filter)));
        command.Parameters.Add(Text(task.State));
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = task.Done });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = task.Skipped });
        command.Parameters.Add(Text(task.Owner));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = task.Resumed });
        command.Parameters.Add(Time(task.CreatedAt));
        command.Parameters.Add(Time(task.UpdatedAt));
        command.Parameters.Add(Text(task.CreatedBy));
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)task.Error ?? DBNull.Value });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<BulkTask?> GetAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {TaskRows.Columns} FROM mc_ops_task WHERE id = $1", [Text(id)], cancellationToken).ConfigureAwait(false)) is [var first, ..] ? first : null;

    public Task<IReadOnlyList<BulkTask>> ListAsync(int limit, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {TaskRows.Columns} FROM mc_ops_task ORDER BY created_at DESC, id LIMIT $1", [new NpgsqlParameter<int> { TypedValue = limit }], cancellationToken);

    public Task<IReadOnlyList<BulkTask>> ListClaimableAsync(string owner, DateTimeOffset staleBefore, CancellationToken cancellationToken) =>
        QueryAsync(
            $"SELECT {TaskRows.Columns} FROM mc_ops_task WHERE state = 'running' AND (owner = $1 OR updated_at < $2) ORDER BY created_at",
            [Text(owner), Time(staleBefore)],
            cancellationToken);

    public async Task<bool> ClaimAsync(string id, string owner, DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE mc_ops_task SET owner = $2, updated_at = $3, resumed = resumed + 1 WHERE id = $1 AND state = 'running' AND (owner = $2 OR updated_at < $4)");
        command.Parameters.Add(Text(id));
        command.Parameters.Add(Text(owner));
        command.Parameters.Add(Time(now));
        command.Parameters.Add(Time(staleBefore));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<bool> ProgressAsync(string id, string owner, long done, long skipped, string state, string? failure, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE mc_ops_task SET done = $3, skipped = $4, state = $5, error = $6, updated_at = $7 WHERE id = $1 AND owner = $2 AND state = 'running'");
        command.Parameters.Add(Text(id));
        command.Parameters.Add(Text(owner));
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = done });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = skipped });
        command.Parameters.Add(Text(state));
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)failure ?? DBNull.Value });
        command.Parameters.Add(Time(now));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    private async Task<IReadOnlyList<BulkTask>> QueryAsync(string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddRange(parameters);
        var tasks = new List<BulkTask>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tasks.Add(TaskRows.Read(reader, i => new DateTimeOffset(reader.GetFieldValue<DateTime>(i), TimeSpan.Zero)));
            }
        }

        return tasks;
    }

    private static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value };

    private static NpgsqlParameter<DateTime> Time(DateTimeOffset value) => new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = value.UtcDateTime };
}
