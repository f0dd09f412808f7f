namespace MailCluster.Queue.Suppression;

/// <summary>
/// The suppression table in the cluster database (<c>mc_suppression</c>, with a one-row change counter
/// <c>mc_suppression_version</c> bumped in the same transaction as every change): the embedded SQLite file beside the
/// access database on a single node, the shared PostgreSQL in a cluster. Nodes poll the counter and read the table
/// only when it moved.
/// </summary>
public interface ISuppressionStore : IAsyncDisposable
{
    /// <summary>Creates the schema if missing (idempotent; safe when several nodes start together).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>The change counter: any add or remove on any node changes it.</summary>
    Task<long> VersionAsync(CancellationToken cancellationToken);

    /// <summary>Every entry not yet expired at <paramref name="now"/> (expired rows are deleted here as well).</summary>
    Task<IReadOnlyList<SuppressionEntry>> ActiveAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Adds or replaces the entry of (address, credential); committed when the task completes.</summary>
    Task UpsertAsync(SuppressionEntry entry, CancellationToken cancellationToken);

    /// <summary>Removes the entry of (address, credential); false when there was none.</summary>
    Task<bool> RemoveAsync(string address, string? credential, CancellationToken cancellationToken);
}
