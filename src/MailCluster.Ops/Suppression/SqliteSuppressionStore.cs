using MailCluster.Queue.Suppression;
using MailCluster.Queue.Tables;
using Microsoft.Data.Sqlite;

namespace MailCluster.Ops.Suppression;

/// <summary>
/// The suppression table in the access database's SQLite file (<c>{DataDir}/access.db</c>) on the embedded single
/// node. WAL with <c>synchronous=FULL</c>: an entry is on disk when the API answers. A global entry's credential is
/// stored as the empty string, so that (address, credential) can be the primary key.
/// </summary>
public sealed class SqliteSuppressionStore(string path) : ISuppressionStore
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS mc_suppression(
            address TEXT NOT NULL,
            credential TEXT NOT NULL,
            reason TEXT NOT NULL,
            source TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY(address, credential));
        CREATE TABLE IF NOT EXISTS mc_suppression_version(id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
        INSERT OR IGNORE INTO mc_suppression_version(id, version) VALUES (1, 0);
        """;

    private const string Bump = "UPDATE mc_suppression_version SET version = version + 1 WHERE id = 1;";

    private readonly SqliteDatabase _db = new(path, Schema);

    public Task InitializeAsync(CancellationToken cancellationToken) => _db.CreateAsync(cancellationToken);

    public async Task<long> VersionAsync(CancellationToken cancellationToken)
    {
        var connection = await _db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT version FROM mc_suppression_version WHERE id = 1";
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0L);
        }
    }

    public async Task<IReadOnlyList<SuppressionEntry>> ActiveAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var at = now.ToUnixTimeMilliseconds();
        var connection = await _db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using (var prune = connection.CreateCommand())
            {
                prune.CommandText = "DELETE FROM mc_suppression WHERE expires_at <= $now";
                prune.Parameters.AddWithValue("$now", at);
                await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT address, credential, reason, source, created_at, expires_at FROM mc_suppression WHERE expires_at > $now";
            command.Parameters.AddWithValue("$now", at);
            var entries = new List<SuppressionEntry>();
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var credential = reader.GetString(1);
                    entries.Add(new SuppressionEntry(
                        reader.GetString(0),
                        credential.Length == 0 ? null : credential,
                        reader.GetString(2),
                        reader.GetString(3),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
                }
            }

            return entries;
        }
    }

    public async Task UpsertAsync(SuppressionEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await InTransactionAsync(
            """
            INSERT INTO mc_suppression(address, credential, reason, source, created_at, expires_at)
                VALUES ($address, $credential, $reason, $source, $created, $expires)
                ON CONFLICT(address, credential) DO UPDATE SET reason = excluded.reason, source = excluded.source,
                    created_at = excluded.created_at, expires_at = excluded.expires_at
            """,
            c =>
            {
                c.Parameters.AddWithValue("$address", entry.Address);
                c.Parameters.AddWithValue("$credential", entry.Credential ?? "");
                c.Parameters.AddWithValue("$reason", entry.Reason);
                c.Parameters.AddWithValue("$source", entry.Source);
                c.Parameters.AddWithValue("$created", entry.CreatedAt.ToUnixTimeMilliseconds());
                c.Parameters.AddWithValue("$expires", entry.ExpiresAt.ToUnixTimeMilliseconds());
            },
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> RemoveAsync(string address, string? credential, CancellationToken cancellationToken) =>
        await InTransactionAsync(
            "DELETE FROM mc_suppression WHERE address = $address AND credential = $credential",
            c =>
            {
                c.Parameters.AddWithValue("$address", address);
                c.Parameters.AddWithValue("$credential", credential ?? "");
            },
            cancellationToken).ConfigureAwait(false) > 0;

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }

    /// <summary>Runs <paramref name="sql"/> and bumps the change counter in one transaction; returns the rows it changed.</summary>
    private async Task<int> InTransactionAsync(string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken)
    {
        var connection = await _db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await using var change = connection.CreateCommand();
                change.Transaction = transaction;
                change.CommandText = sql;
                bind(change);
                var rows = await change.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await using var bump = connection.CreateCommand();
                bump.Transaction = transaction;
                bump.CommandText = Bump;
                await bump.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return rows;
            }
        }
    }
}
