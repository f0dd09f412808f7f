using MailCluster.Queue.Tables;
using Npgsql;

namespace MailCluster.Ops.Access;

/// <summary>Tokens in the cluster's shared PostgreSQL (table <c>mc_api_token</c>), read by every node.</summary>
public sealed class PostgresTokenStore : ITokenStore
{
    // The advisory lock serialises nodes starting together: concurrent CREATE TABLE IF NOT EXISTS can otherwise fail
    // with a unique violation in the catalog (as for the spool's schema).
    private const string Schema = """
        SELECT pg_advisory_xact_lock(hashtext('mc_api_token_schema'));
        CREATE TABLE IF NOT EXISTS mc_api_token(
            id text PRIMARY KEY,
            name text NOT NULL,
            role text NOT NULL,
            secret_sha256 text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz NULL);
        """;

    private readonly NpgsqlDataSource dataSource;

    public PostgresTokenStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        dataSource = NpgsqlDataSource.Create(connectionString);
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresSchema.CreateAsync(dataSource, Schema, cancellationToken);

    public async Task<IReadOnlyList<StoredToken>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, name, role, secret_sha256, created_at FROM mc_api_token WHERE revoked_at IS NULL ORDER BY created_at, id");
        var tokens = new List<StoredToken>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (ApiRoles.Parse(reader.GetString(2)) is { } role)
                {
                    var createdAt = new DateTimeOffset(reader.GetFieldValue<DateTime>(4), TimeSpan.Zero);
                    tokens.Add(new StoredToken(reader.GetString(0), reader.GetString(1), role, reader.GetString(3), createdAt));
                }
            }
        }

        return tokens;
    }

    public async Task CreateAsync(StoredToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        await using var command = dataSource.CreateCommand(
            "INSERT INTO mc_api_token(id, name, role, secret_sha256, created_at) VALUES ($1, $2, $3, $4, $5)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = token.Id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = token.Name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = token.Role.Name() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = token.SecretHash });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz, TypedValue = token.CreatedAt.UtcDateTime });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("UPDATE mc_api_token SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
