using MailCluster.Queue.Tables;
using Microsoft.Data.Sqlite;

namespace MailCluster.Edge.Credentials;

/// <summary>
/// Runtime users and API keys in their own SQLite file (<c>{DataDir}/credentials.db</c>) on the embedded single node.
/// WAL with <c>synchronous=FULL</c>: a change is on disk when the API answers. These tables ARE a storage format:
/// never change their shape; add a table.
/// </summary>
public sealed class SqliteCredentialStore(string path) : ICredentialStore
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS mc_smtp_user(
            name_key TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            allowed_senders TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS mc_api_key(
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            secret_sha256 TEXT NOT NULL UNIQUE,
            senders TEXT NOT NULL,
            scopes INTEGER NOT NULL,
            rate_per_minute INTEGER NULL,
            daily_quota INTEGER NULL,
            enabled INTEGER NOT NULL,
            created_at INTEGER NOT NULL);
        """;

    private readonly SqliteDatabase _db = new(path, Schema);

    public Task InitializeAsync(CancellationToken cancellationToken) => _db.CreateAsync(cancellationToken);

    public Task<IReadOnlyList<RuntimeUser>> ListUsersAsync(CancellationToken cancellationToken) => _db.QueryAsync(
        "SELECT name, password_hash, allowed_senders, created_at, updated_at FROM mc_smtp_user ORDER BY name_key",
        r => new RuntimeUser(r.GetString(0), r.GetString(1), CredentialColumns.FromJson(r.GetString(2)), Time(r.GetInt64(3)), Time(r.GetInt64(4))),
        cancellationToken);

    public async Task<bool> CreateUserAsync(RuntimeUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        return await _db.ExecuteAsync(
            "INSERT INTO mc_smtp_user(name_key, name, password_hash, allowed_senders, created_at, updated_at) VALUES ($key, $name, $hash, $senders, $created, $updated) ON CONFLICT(name_key) DO NOTHING",
            c => BindUser(c, user),
            cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<bool> UpdateUserAsync(RuntimeUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        return await _db.ExecuteAsync(
            "UPDATE mc_smtp_user SET password_hash = $hash, allowed_senders = $senders, updated_at = $updated WHERE name_key = $key",
            c => BindUser(c, user),
            cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<bool> DeleteUserAsync(string name, CancellationToken cancellationToken) =>
        await _db.ExecuteAsync("DELETE FROM mc_smtp_user WHERE name_key = $key", c => c.Parameters.AddWithValue("$key", CredentialColumns.NameKey(name)), cancellationToken).ConfigureAwait(false) > 0;

    public Task<IReadOnlyList<ApiKey>> ListKeysAsync(CancellationToken cancellationToken) => _db.QueryAsync(
        "SELECT id, name, secret_sha256, senders, scopes, rate_per_minute, daily_quota, enabled, created_at FROM mc_api_key ORDER BY created_at, id",
        r => new ApiKey(
            r.GetString(0),
            r.GetString(1),
            r.GetString(2),
            CredentialColumns.FromJson(r.GetString(3)),
            (ApiKeyScopes)r.GetInt32(4),
            r.IsDBNull(5) ? null : r.GetInt32(5),
            r.IsDBNull(6) ? null : r.GetInt32(6),
            r.GetInt64(7) != 0,
            Time(r.GetInt64(8))),
        cancellationToken);

    public Task CreateKeyAsync(ApiKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _db.ExecuteAsync(
            "INSERT INTO mc_api_key(id, name, secret_sha256, senders, scopes, rate_per_minute, daily_quota, enabled, created_at) VALUES ($id, $name, $hash, $senders, $scopes, $rate, $daily, $enabled, $created)",
            c =>
            {
                c.Parameters.AddWithValue("$id", key.Id);
                c.Parameters.AddWithValue("$name", key.Name);
                c.Parameters.AddWithValue("$hash", key.SecretHash);
                c.Parameters.AddWithValue("$senders", CredentialColumns.ToJson(key.Senders));
                c.Parameters.AddWithValue("$scopes", (int)key.Scopes);
                c.Parameters.AddWithValue("$rate", (object?)key.RatePerMinute ?? DBNull.Value);
                c.Parameters.AddWithValue("$daily", (object?)key.DailyQuota ?? DBNull.Value);
                c.Parameters.AddWithValue("$enabled", key.Enabled ? 1 : 0);
                c.Parameters.AddWithValue("$created", key.CreatedAt.ToUnixTimeMilliseconds());
            },
            cancellationToken);
    }

    public async Task<bool> SetKeyEnabledAsync(string id, bool enabled, CancellationToken cancellationToken) =>
        await _db.ExecuteAsync(
            "UPDATE mc_api_key SET enabled = $enabled WHERE id = $id",
            c =>
            {
                c.Parameters.AddWithValue("$id", id);
                c.Parameters.AddWithValue("$enabled", enabled ? 1 : 0);
            },
            cancellationToken).ConfigureAwait(false) > 0;

    public async Task<bool> DeleteKeyAsync(string id, CancellationToken cancellationToken) =>
        await _db.ExecuteAsync("DELETE FROM mc_api_key WHERE id = $id", c => c.Parameters.AddWithValue("$id", id), cancellationToken).ConfigureAwait(false) > 0;

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }

    private static DateTimeOffset Time(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);

    private static void BindUser(SqliteCommand c, RuntimeUser user)
    {
        c.Parameters.AddWithValue("$key", CredentialColumns.NameKey(user.Name));
        c.Parameters.AddWithValue("$name", user.Name);
        c.Parameters.AddWithValue("$hash", user.PasswordHash);
        c.Parameters.AddWithValue("$senders", CredentialColumns.ToJson(user.AllowedSenders));
        c.Parameters.AddWithValue("$created", user.CreatedAt.ToUnixTimeMilliseconds());
        c.Parameters.AddWithValue("$updated", user.UpdatedAt.ToUnixTimeMilliseconds());
    }
}
