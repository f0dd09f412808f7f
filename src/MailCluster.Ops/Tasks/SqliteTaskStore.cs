using MailCluster.Queue.Tables;
using Microsoft.Data.Sqlite;

namespace MailCluster.Ops.Tasks;

/// <summary>Tasks in the embedded node's access database (<c>{DataDir}/access.db</c>, beside the tokens), WAL with
/// <c>synchronous=FULL</c>: a created task and each progress step are on disk when the call returns.</summary>
public sealed class SqliteTaskStore(string path) : ITaskStore
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS mc_ops_task(
            id TEXT PRIMARY KEY NOT NULL,
            action TEXT NOT NULL,
            filter_json TEXT NOT NULL,
            state TEXT NOT NULL,
            done INTEGER NOT NULL,
            skipped INTEGER NOT NULL,
            owner TEXT NOT NULL,
            resumed INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            error TEXT NULL);
        CREATE INDEX IF NOT EXISTS mc_ops_task_created ON mc_ops_task(created_at);
        """;

    private readonly SqliteDatabase _db = new(path, Schema);

    public Task InitializeAsync(CancellationToken cancellationToken) => _db.CreateAsync(cancellationToken);

    public Task CreateAsync(BulkTask task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        return _db.ExecuteAsync(
            $"INSERT INTO mc_ops_task({TaskRows.Columns}) VALUES ($id, $action, $filter, $state, $done, $skipped, $owner, $resumed, $created, $updated, $by, $error)",
            c =>
            {
                c.Parameters.AddWithValue("$id", task.Id);
                c.Parameters.AddWithValue("$action", TaskRows.ActionName(task.Action));
                c.Parameters.AddWithValue("$filter", TaskRows.FilterJson(task.Filter));
                c.Parameters.AddWithValue("$state", task.State);
                c.Parameters.AddWithValue("$done", task.Done);
                c.Parameters.AddWithValue("$skipped", task.Skipped);
                c.Parameters.AddWithValue("$owner", task.Owner);
                c.Parameters.AddWithValue("$resumed", task.Resumed);
                c.Parameters.AddWithValue("$created", task.CreatedAt.ToUnixTimeMilliseconds());
                c.Parameters.AddWithValue("$updated", task.UpdatedAt.ToUnixTimeMilliseconds());
                c.Parameters.AddWithValue("$by", task.CreatedBy);
                c.Parameters.AddWithValue("$error", (object?)task.Error ?? DBNull.Value);
            },
            cancellationToken);
    }

    public async Task<BulkTask?> GetAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {TaskRows.Columns} FROM mc_ops_task WHERE id = $id", c => c.Parameters.AddWithValue("$id", id), cancellationToken).ConfigureAwait(false))
        is [var first, ..] ? first : null;

    public Task<IReadOnlyList<BulkTask>> ListAsync(int limit, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {TaskRows.Columns} FROM mc_ops_task ORDER BY created_at DESC, id LIMIT $limit", c => c.Parameters.AddWithValue("$limit", limit), cancellationToken);

    public Task<IReadOnlyList<BulkTask>> ListClaimableAsync(string owner, DateTimeOffset staleBefore, CancellationToken cancellationToken) =>
        QueryAsync(
            $"SELECT {TaskRows.Columns} FROM mc_ops_task WHERE state = 'running' AND (owner = $owner OR updated_at < $stale) ORDER BY created_at",
            c =>
            {
                c.Parameters.AddWithValue("$owner", owner);
                c.Parameters.AddWithValue("$stale", staleBefore.ToUnixTimeMilliseconds());
            },
            cancellationToken);

    public async Task<bool> ClaimAsync(string id, string owner, DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken) =>
        await _db.ExecuteAsync(
            "UPDATE mc_ops_task SET owner = $owner, updated_at = $now, resumed = resumed + 1 WHERE id = $id AND state = 'running' AND (owner = $owner OR updated_at < $stale)",
            c =>
            {
                c.Parameters.AddWithValue("$id", id);
                c.Parameters.AddWithValue("$owner", owner);
                c.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
                c.Parameters.AddWithValue("$stale", staleBefore.ToUnixTimeMilliseconds());
            },
            cancellationToken).ConfigureAwait(false) > 0;

    public async Task<bool> ProgressAsync(string id, string owner, long done, long skipped, string state, string? failure, DateTimeOffset now, CancellationToken cancellationToken) =>
        await _db.ExecuteAsync(
            "UPDATE mc_ops_task SET done = $done, skipped = $skipped, state = $state, error = $error, updated_at = $now WHERE id = $id AND owner = $owner AND state = 'running'",
            c =>
            {
                c.Parameters.AddWithValue("$id", id);
                c.Parameters.AddWithValue("$owner", owner);
                c.Parameters.AddWithValue("$done", done);
                c.Parameters.AddWithValue("$skipped", skipped);
                c.Parameters.AddWithValue("$state", state);
                c.Parameters.AddWithValue("$error", (object?)failure ?? DBNull.Value);
                c.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            },
            cancellationToken).ConfigureAwait(false) > 0;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task<IReadOnlyList<BulkTask>> QueryAsync(string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken) =>
        _db.QueryAsync(sql, bind, reader => TaskRows.Read(reader, i => DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(i))), cancellationToken);
}
