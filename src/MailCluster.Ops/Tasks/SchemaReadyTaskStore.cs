using MailCluster.Queue.Tables;

namespace MailCluster.Ops.Tasks;

/// <summary>
/// Creates the table before the first call of any kind, once: the task routes answer as soon as the ops port is up,
/// which can be before the runner (which waits for the node to be Up) first touches the store — a GET /api/v1/tasks then
/// met "no such table" and answered 500 (T56 under load). A failed creation is tried again by the next call
/// (<see cref="SchemaGate"/>).
/// </summary>
public sealed class SchemaReadyTaskStore(ITaskStore inner) : ITaskStore
{
    private readonly SchemaGate _schema = new(inner.InitializeAsync);

    public Task InitializeAsync(CancellationToken cancellationToken) => _schema.EnsureAsync(cancellationToken);

    public async Task CreateAsync(BulkTask task, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await inner.CreateAsync(task, cancellationToken).ConfigureAwait(false);
    }

    public async Task<BulkTask?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await inner.GetAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<BulkTask>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await inner.ListAsync(limit, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<BulkTask>> ListClaimableAsync(string owner, DateTimeOffset staleBefore, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await inner.ListClaimableAsync(owner, staleBefore, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> ClaimAsync(string id, string owner, DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await inner.ClaimAsync(id, owner, now, staleBefore, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> ProgressAsync(string id, string owner, long done, long skipped, string state, string? failure, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await inner.ProgressAsync(id, owner, done, skipped, state, failure, now, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
