using System.Data.Common;
using MailCluster.Queue.Tables;
using Npgsql;
using NpgsqlTypes;

namespace MailCluster.Edge.Credentials;

/// <summary>Runtime users and API keys in the cluster's shared PostgreSQL, read by every node. These tables ARE a
/// storage format: never change their shape; add a table.</summary>
public sealed class PostgresCredentialStore : ICredentialStore
{
    // The advisory lock serialises nodes starting together (concurrent CREATE TABLE IF NOT EXISTS can fail with a
    // unique violation in the catalog), as for the token and spool schemas.
    private const string Schema = """
        SELECT pg_advisory_xact_lock(hashtext('mc_credentials_schema'));
        CREATE TABLE IF NOT EXISTS mc_smtp_user(
            name_key text PRIMARY KEY,
            name text NOT NULL,
            password_hash text NOT NULL,
            allowed_senders text NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL);
        CREATE TABLE IF NOT EXISTS mc_api_key(
            id text PRIMARY KEY,
            name text NOT NULL,
            secret_sha256 text NOT NULL UNIQUE,
            senders text NOT NULL,
            scopes integer NOT NULL,
            rate_per_minute integer NULL,
            daily_quota integer NULL,
            enabled boolean NOT NULL,
            created_at timestamptz NOT NULL);
        """;

    private readonly NpgsqlDataSource dataSource;

    public PostgresCredentialStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        dataSource = NpgsqlDataSource.Create(connectionString);
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresSchema.CreateAsync(dataSource, Schema, cancellationToken);

    public Task<IReadOnlyList<RuntimeUser>> ListUsersAsync(CancellationToken cancellationToken) => QueryAsync(
        "SELECT name, password_hash, allowed_senders, created_at, updated_at FROM mc_smtp_user ORDER BY name_key",
        r => new RuntimeUser(r.GetString(0), r.GetString(1), CredentialColumns.FromJson(r.GetString(2)), Time(r, 3), Time(r, 4)),
        cancellationToken);

    public async Task<bool> CreateUserAsync(RuntimeUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        return await ExecuteAsync(
            "INSERT INTO mc_smtp_user(name_key, name, password_hash, allowed_senders, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name_key) DO NOTHING",
            [Text(CredentialColumns.NameKey(user.Name)), Text(user.Name), Text(user.PasswordHash), Text(CredentialColumns.ToJson(user.AllowedSenders)), At(user.CreatedAt), At(user.UpdatedAt)],
            cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<bool> UpdateUserAsync(RuntimeUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        return await ExecuteAsync(
            "UPDATE mc_smtp_user SET password_hash = $2, allowed_senders = $3, updated_at = $4 WHERE name_key = $1",
            [Text(CredentialColumns.NameKey(user.Name)), Text(user.PasswordHash), Text(CredentialColumns.ToJson(user.AllowedSenders)), At(user.UpdatedAt)],
            cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<bool> DeleteUserAsync(string name, CancellationToken cancellationToken) =>
        await ExecuteAsync("DELETE FROM mc_smtp_user WHERE name_key = $1", [Text(CredentialColumns.NameKey(name))], cancellationToken).ConfigureAwait(false) > 0;

    public Task<IReadOnlyList<ApiKey>> ListKeysAsync(CancellationToken cancellationToken) => QueryAsync(
        "SELECT id, name, secret_sha256, senders, scopes, rate_per_minute, daily_quota, enabled, created_at FROM mc_api_key ORDER BY created_at, id",
        r => new ApiKey(
            r.GetString(0),
            r.GetString(1),
            r.GetString(2),
            CredentialColumns.FromJson(r.GetString(3)),
            (ApiKeyScopes)r.GetInt32(4),
            r.IsDBNull(5) ? null : r.GetInt32(5),
            r.IsDBNull(6) ? null : r.GetInt32(6),
            r.GetBoolean(7),
            Time(r, 8)),
        cancellationToken);

    public Task CreateKeyAsync(ApiKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ExecuteAsync(
            "INSERT INTO mc_api_key(id, name, secret_sha256, senders, scopes, rate_per_minute, daily_quota, enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [
                Text(key.Id), Text(key.Name), Text(key.SecretHash), Text(CredentialColumns.ToJson(key.Senders)),
                new NpgsqlParameter<int> { TypedValue = (int)key.Scopes }, NullableInt(key.RatePerMinute), NullableInt(key.DailyQuota),
                new NpgsqlParameter<bool> { TypedValue = key.Enabled }, At(key.CreatedAt),
            ],
            cancellationToken);
    }

    public async Task<bool> SetKeyEnabledAsync(string id, bool enabled, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE mc_api_key SET enabled = $2 WHERE id = $1", [Text(id), new NpgsqlParameter<bool> { TypedValue = enabled }], cancellationToken).ConfigureAwait(false) > 0;

    public async Task<bool> DeleteKeyAsync(string id, CancellationToken cancellationToken) =>
        await ExecuteAsync("DELETE FROM mc_api_key WHERE id = $1", [Text(id)], cancellationToken).ConfigureAwait(false) > 0;

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    private static NpgsqlParameter<string> Text(string value) => new NpgsqlParameter<string> { TypedValue = value };

    private static NpgsqlParameter<DateTime> At(DateTimeOffset at) => new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = at.UtcDateTime };

    private static NpgsqlParameter NullableInt(int? value) => new() { NpgsqlDbType = NpgsqlDbType.Integer, Value = (object?)value ?? DBNull.Value };

    private static DateTimeOffset Time(DbDataReader r, int ordinal) => new(r.GetFieldValue<DateTime>(ordinal), TimeSpan.Zero);

    private async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        var rows = new List<T>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(read(reader));
            }
        }

        return rows;
    }

    private async Task<int> ExecuteAsync(string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddRange(parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
