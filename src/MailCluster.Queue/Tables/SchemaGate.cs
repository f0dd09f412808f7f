namespace MailCluster.Queue.Tables;

/// <summary>
/// Creates a store's schema once, before the first call of any kind that needs it: routes can answer as soon as the
/// ops port is up, before the refresher or runner that creates the schema at start has done so (a GET then met "no such
/// table" and answered 500: T56 under load). Callers arriving during a creation wait for that one (each may stop
/// waiting when its own token is cancelled; the creation goes on); a creation that failed is tried again by the next
/// call; once one succeeded, calls pass at once.
/// </summary>
public sealed class SchemaGate(Func<CancellationToken, Task> create)
{
    private readonly Lock _lock = new();
    private Task? _creation;

    public Task EnsureAsync(CancellationToken cancellationToken)
    {
        Task creation;
        lock (_lock)
        {
            if (_creation is null || _creation.IsFaulted || _creation.IsCanceled)
            {
                _creation = create(CancellationToken.None);
            }

            creation = _creation;
        }

        return creation.IsCompletedSuccessfully ? Task.CompletedTask : creation.WaitAsync(cancellationToken);
    }
}
