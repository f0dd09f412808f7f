namespace MailCluster.Ops.Access;

/// <summary>
/// The API tokens in the cluster database (table <c>mc_api_token</c>): the embedded SQLite data directory on a single
/// node, the shared PostgreSQL in a cluster, chosen like the spool store. Every node reads the whole set every
/// <see cref="TokenRefresher.Interval"/>, so a token created or revoked on one node is in force on all within seconds.
/// </summary>
public interface ITokenStore : IAsyncDisposable
{
    /// <summary>Creates the schema if it is missing (idempotent; safe when several nodes start together).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Every token not revoked.</summary>
    Task<IReadOnlyList<StoredToken>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Stores a new token; committed when the task completes.</summary>
    Task CreateAsync(StoredToken token, CancellationToken cancellationToken);

    /// <summary>Revokes the token; false when no token with this id is in force.</summary>
    Task<bool> RevokeAsync(string id, CancellationToken cancellationToken);
}

/// <summary>Builds the token store of the configured storage provider (the same names as the spool's).</summary>
public static class TokenStoreFactory
{
    /// <summary>The SQLite file of the embedded default, in the data directory beside the journal and spool.</summary>
    public const string SqliteFileName = "access.db";

    public static ITokenStore Create(bool postgres, string connectionString, string dataDir) =>
        postgres ? new PostgresTokenStore(connectionString) : new SqliteTokenStore(Path.Combine(Path.GetFullPath(dataDir), SqliteFileName));
}
