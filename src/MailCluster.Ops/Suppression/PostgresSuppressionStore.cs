using MailCluster.Queue.Suppression;
using MailCluster.Queue.Tables;
using Npgsql;
using NpgsqlTypes;

namespace MailCluster.Ops.Suppression;

/// <summary>The suppression table in the cluster's shared PostgreSQL, read by every node (see <see cref="ISuppressionStore"/>).</summary>
public sealed class PostgresSuppressionStore : ISuppressionStore
{
    // The advisory lock serialises nodes starting together (as for the token and spool schemas).
    private const string Schema = """
        SELECT pg_advisory_xact_lock(hashtext('mc_suppression_schema'));
        CREATE TABLE IF NOT EXISTS mc_suppression(
            address text NOT NULL,
            credential text NOT NULL,
            reason text NOT NULL,
            source text NOT NULL,
            created_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            PRIMARY KEY(address, credential));
        CREATE TABLE IF NOT EXISTS mc_suppression_version(id int PRIMARY KEY CHECK (id = 1), version bigint NOT NULL);
        INSERT INTO mc_suppression_version(id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
        """;

    private const string Bump = "UPDATE mc_suppression_version SET version = version + 1 WHERE id = 1";

    private readonly NpgsqlDataSource _dataSource;

    public PostgresSuppressionStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        _dataSource = NpgsqlDataSource.Create(connectionString);
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresSchema.CreateAsync(_dataSource, Schema, cancellationToken);

    public async Task<long> VersionAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT version FROM mc_suppression_version WHERE id = 1");
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0L);
    }

    public async Task<IReadOnlyList<SuppressionEntry>> ActiveAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using (var prune = _dataSource.CreateCommand("DELETE FROM mc_suppression WHERE expires_at <= $1"))
        {
            prune.Parameters.Add(Time(now));
            await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var command = _dataSource.CreateCommand(
            "SELECT address, credential, reason, source, created_at, expires_at FROM mc_suppression WHERE expires_at > $1");
        command.Parameters.Add(Time(now));
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
                    new DateTimeOffset(reader.GetFieldValue<DateTime>(4), TimeSpan.Zero),
                    new DateTimeOffset(reader.GetFieldValue<DateTime>(5), TimeSpan.Zero)));
            }
        }

        return entries;
    }

    public Task UpsertAsync(SuppressionEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return InTransactionAsync(async (connection, transaction) =>
        {
            await using var command = new NpgsqlCommand(
                """
                INSERT INTO mc_suppression(address, credential, reason, source, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (address, credential) DO UPDATE SET reason = excluded.reason, source = excluded.source,
                    created_at = excluded.created_at, expires_at = excluded.expires_at
                """,
                connection,
                transaction);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.Address });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.Credential ?? "" });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.Reason });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.Source });
            command.Parameters.Add(Time(entry.CreatedAt));
            command.Parameters.Add(Time(entry.ExpiresAt));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await BumpAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            return 0;
        }, cancellationToken);
    }

    public Task<bool> RemoveAsync(string address, string? credential, CancellationToken cancellationToken) =>
        InTransactionAsync(async (connection, transaction) =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM mc_suppression WHERE address = $1 AND credential = $2", connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = address });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = credential ?? "" });
            var rows = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await BumpAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            return rows > 0;
        }, cancellationToken);

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private static NpgsqlParameter<DateTime> Time(DateTimeOffset at) =>
        new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = at.UtcDateTime };

    private static async Task BumpAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var bump = new NpgsqlCommand(Bump, connection, transaction);
        await bump.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var result = await work(connection, transaction).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
        }
    }
}
