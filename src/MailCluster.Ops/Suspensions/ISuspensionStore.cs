using MailCluster.Ops.Access;
using MailCluster.Queue.Suspensions;

namespace MailCluster.Ops.Suspensions;

/// <summary>
/// Destination suspensions in the cluster database (table <c>mc_destination_suspension</c>, one row per domain): the
/// embedded SQLite access database on a single node (<c>{DataDir}/access.db</c>, beside the API tokens), the shared
/// PostgreSQL in a cluster. Every node reads the whole table every <see cref="SuspensionRefresher.Interval"/> into its
/// <see cref="SuspensionSet"/>, which the domain queues consult before they dispatch. A suspension's end is stored, not
/// its duration, so it ends by itself on every node, after a restart or a fail-over alike; rows past their end are
/// removed at the next write.
/// </summary>
public interface ISuspensionStore : IAsyncDisposable
{
    /// <summary>Creates the table if it is missing (idempotent; safe when several nodes start together).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Every stored suspension, ended ones included (the set filters by time).</summary>
    Task<IReadOnlyList<DestinationSuspension>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Stores the suspension of its domain, replacing any earlier one; true when one was active at
    /// <paramref name="now"/> (replaced). Committed when the task completes.</summary>
    Task<bool> PutAsync(DestinationSuspension suspension, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Ends the suspension of <paramref name="domain"/> now; false when none was active at <paramref name="now"/>.</summary>
    Task<bool> DeleteAsync(string domain, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>Builds the suspension store of the configured storage provider (the same choice as the token store's).</summary>
public static class SuspensionStoreFactory
{
    public static ISuspensionStore Create(bool postgres, string connectionString, string dataDir) =>
        postgres
            ? new PostgresSuspensionStore(connectionString)
            : new SqliteSuspensionStore(Path.Combine(Path.GetFullPath(dataDir), TokenStoreFactory.SqliteFileName));
}
