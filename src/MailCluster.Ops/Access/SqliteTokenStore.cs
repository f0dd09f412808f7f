using MailCluster.Queue.Tables;
using Microsoft.Data.Sqlite;

namespace MailCluster.Ops.Access;

/// <summary>
/// Tokens in their own SQLite file (<c>{DataDir}/access.db</c>) on the embedded single node. WAL with
/// <c>synchronous=FULL</c>: a created or revoked token is on disk when the API answers. Reads every 2 s are cheap
/// (a handful of rows).
/// </summary>
public sealed class SqliteTokenStore(string path) : ITokenStore
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS mc_api_token(
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            secret_sha256 TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER NULL);
        """;

    private readonly SqliteDatabase _db = new(path, Schema);

    public Task InitializeAsync(CancellationToken cancellationToken) => _db.CreateAsync(cancellationToken);

    public async Task<IReadOnlyList<StoredToken>> ListAsync(CancellationToken cancellationToken)
    {
        var connection = await _db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, name, role, secret_sha256, created_at FROM mc_api_token WHERE revoked_at IS NULL ORDER BY created_at, id";
            var tokens = new List<StoredToken>();
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (ApiRoles.Parse(reader.GetString(2)) is { } role)
                    {
                        tokens.Add(new StoredToken(reader.GetString(0), reader.GetString(1), role, reader.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
                    }
                }
            }

            return tokens;
        }
    }

    public Task CreateAsync(StoredToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _db.ExecuteAsync(
            "INSERT INTO mc_api_token(id, name, role, secret_sha256, created_at) VALUES ($id, $name, $role, $hash, $at)",
            c =>
            {
                c.Parameters.AddWithValue("$id", token.Id);
                c.Parameters.AddWithValue("$name", token.Name);
                c.Parameters.AddWithValue("$role", token.Role.Name());
                c.Parameters.AddWithValue("$hash", token.SecretHash);
                c.Parameters.AddWithValue("$at", token.CreatedAt.ToUnixTimeMilliseconds());
            },
            cancellationToken);
    }

    public async Task<bool> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        int rows = await _db.ExecuteAsync(
            "UPDATE mc_api_token SET revoked_at = $at WHERE id = $id AND revoked_at IS NULL",
            c =>
            {
                c.Parameters.AddWithValue("$id", id);
                c.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            },
            cancellationToken).ConfigureAwait(false);
        return rows > 0;
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
