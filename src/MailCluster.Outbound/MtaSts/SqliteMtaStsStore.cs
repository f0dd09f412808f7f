using Microsoft.Data.Sqlite;

namespace MailCluster.Outbound.MtaSts;

/// <summary>The policy cache in its own SQLite file (<c>{DataDir}/mta-sts.db</c>) on the embedded single node.</summary>
public sealed class SqliteMtaStsStore(string path) : IMtaStsStore
{
    public const string FileName = "mta-sts.db";

    private const string Schema = """
        PRAGMA journal_mode=WAL;
        CREATE TABLE IF NOT EXISTS mc_mta_sts_policy(
            domain TEXT PRIMARY KEY NOT NULL,
            txt_id TEXT NOT NULL,
            policy TEXT NOT NULL,
            fetched_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL);
        """;

    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = Path.GetFullPath(path),
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = 10,
    }.ToString();

    private volatile bool _ready;

    /// <summary>The schema is created on first use, so that a database down at start-up delays nothing but MTA-STS.</summary>
    private async Task ReadyAsync(CancellationToken cancellationToken)
    {
        if (!_ready)
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
            _ready = true;
        }
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = Schema;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredMtaStsPolicy?> GetAsync(string domain, CancellationToken cancellationToken)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT txt_id, policy, fetched_at, expires_at FROM mc_mta_sts_policy WHERE domain = $d";
        command.Parameters.AddWithValue("$d", domain);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new StoredMtaStsPolicy(domain, reader.GetString(0), reader.GetString(1),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)))
            : null;
    }

    public async Task PutAsync(StoredMtaStsPolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO mc_mta_sts_policy(domain, txt_id, policy, fetched_at, expires_at) VALUES ($d, $id, $p, $f, $e)
            ON CONFLICT(domain) DO UPDATE SET txt_id = excluded.txt_id, policy = excluded.policy,
                fetched_at = excluded.fetched_at, expires_at = excluded.expires_at
            """;
        command.Parameters.AddWithValue("$d", policy.Domain);
        command.Parameters.AddWithValue("$id", policy.Id);
        command.Parameters.AddWithValue("$p", policy.Text);
        command.Parameters.AddWithValue("$f", policy.FetchedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$e", policy.ExpiresAt.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
