using MailCluster.Queue.Spool;
using Microsoft.Extensions.Logging;

namespace MailCluster.Storage;

/// <summary>Builds the configured spool store (the <c>Spool:Provider</c> setting names one of the constants).</summary>
public static class SpoolStoreFactory
{
    public const string Sqlite = "Sqlite";
    public const string PostgreSql = "PostgreSql";

    /// <param name="provider"><see cref="Sqlite"/> or <see cref="PostgreSql"/> (case-insensitive; "Postgres" is accepted too).</param>
    /// <param name="connectionStringOrPath">The SQLite file path, or the Npgsql connection string.</param>
    /// <param name="fileThreshold">SQLite only: bodies of at least this many bytes go to files (0: none).</param>
    /// <remarks>The caller owns the store: call <see cref="ISpoolStore.InitializeAsync"/> first and dispose it last.</remarks>
    public static GroupCommitSpoolStore Create(string provider, string connectionStringOrPath, ILogger? logger = null, GroupCommitOptions? options = null, int fileThreshold = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(provider);
        ArgumentException.ThrowIfNullOrEmpty(connectionStringOrPath);
        if (string.Equals(provider, Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            return new SqliteSpoolStore(connectionStringOrPath, logger, options, fileThreshold);
        }

        if (string.Equals(provider, PostgreSql, StringComparison.OrdinalIgnoreCase)
            || string.Equals(provider, "Postgres", StringComparison.OrdinalIgnoreCase))
        {
            return new PostgresSpoolStore(connectionStringOrPath, logger, options);
        }

        throw new ArgumentException($"Unknown spool provider '{provider}'; expected '{Sqlite}' or '{PostgreSql}'.", nameof(provider));
    }
}
