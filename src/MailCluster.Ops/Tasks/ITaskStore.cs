namespace MailCluster.Ops.Tasks;

/// <summary>
/// The bulk tasks in the cluster database (table <c>mc_ops_task</c>), beside the API tokens: the embedded SQLite data
/// directory on a single node, the shared PostgreSQL in a cluster. Ownership is a lease: the owner writes a heartbeat
/// with each progress step; a task whose heartbeat is older than the stale bound may be claimed by any node.
/// </summary>
public interface ITaskStore : IAsyncDisposable
{
    /// <summary>Creates the schema if it is missing (idempotent; safe when several nodes start together).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    Task CreateAsync(BulkTask task, CancellationToken cancellationToken);

    Task<BulkTask?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>The most recent tasks first.</summary>
    Task<IReadOnlyList<BulkTask>> ListAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Running tasks owned by <paramref name="owner"/> or whose heartbeat is before <paramref name="staleBefore"/>.</summary>
    Task<IReadOnlyList<BulkTask>> ListClaimableAsync(string owner, DateTimeOffset staleBefore, CancellationToken cancellationToken);

    /// <summary>Takes the running task over (owner, heartbeat, resumed + 1) if it is still owned by
    /// <paramref name="owner"/> or stale; false when another node holds a fresh lease or it is no longer running.</summary>
    Task<bool> ClaimAsync(string id, string owner, DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken);

    /// <summary>Records progress (and the heartbeat) if <paramref name="owner"/> still owns the running task; false when
    /// it lost the lease (another node took the task over), so the caller stops.</summary>
    Task<bool> ProgressAsync(string id, string owner, long done, long skipped, string state, string? failure, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>Builds the task store of the configured storage provider (the same choice as the token store's).</summary>
public static class TaskStoreFactory
{
    public static ITaskStore Create(bool postgres, string connectionString, string dataDir) =>
        new SchemaReadyTaskStore(postgres
            ? new PostgresTaskStore(connectionString)
            : new SqliteTaskStore(Path.Combine(Path.GetFullPath(dataDir), Access.TokenStoreFactory.SqliteFileName)));
}
