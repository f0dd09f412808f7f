namespace MailCluster.Edge.Credentials;

/// <summary>
/// Runtime SMTP users (table <c>mc_smtp_user</c>) and API keys (table <c>mc_api_key</c>) in the cluster database: a
/// SQLite file in the data directory on the embedded single node, the shared PostgreSQL in a cluster (as the ops API
/// tokens). Every node reads both whole every <see cref="CredentialRefresher.Interval"/>, so a change made on one node
/// is in force on all within seconds. Writes are committed when their task completes.
/// </summary>
public interface ICredentialStore : IAsyncDisposable
{
    /// <summary>Creates the tables if missing (idempotent; safe when several nodes start together).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<RuntimeUser>> ListUsersAsync(CancellationToken cancellationToken);

    /// <summary>False when a user of that name (case-insensitive) exists already.</summary>
    Task<bool> CreateUserAsync(RuntimeUser user, CancellationToken cancellationToken);

    /// <summary>Replaces the password hash, senders and update time of the user named <see cref="RuntimeUser.Name"/>
    /// (case-insensitive); false when there is none.</summary>
    Task<bool> UpdateUserAsync(RuntimeUser user, CancellationToken cancellationToken);

    Task<bool> DeleteUserAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every key, enabled or not (a disabled key is listed and refused).</summary>
    Task<IReadOnlyList<ApiKey>> ListKeysAsync(CancellationToken cancellationToken);

    Task CreateKeyAsync(ApiKey key, CancellationToken cancellationToken);

    /// <summary>False when there is no key <paramref name="id"/>.</summary>
    Task<bool> SetKeyEnabledAsync(string id, bool enabled, CancellationToken cancellationToken);

    Task<bool> DeleteKeyAsync(string id, CancellationToken cancellationToken);
}

/// <summary>Builds the credential store of the configured storage provider (the same choice as the spool's and the tokens').</summary>
public static class CredentialStoreFactory
{
    /// <summary>The SQLite file of the embedded default, in the data directory beside <c>access.db</c>.</summary>
    public const string SqliteFileName = "credentials.db";

    public static ICredentialStore Create(bool postgres, string connectionString, string dataDir) =>
        postgres ? new PostgresCredentialStore(connectionString) : new SqliteCredentialStore(Path.Combine(Path.GetFullPath(dataDir), SqliteFileName));
}
