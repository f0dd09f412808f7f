using MailCluster.Queue.Tables;

namespace MailCluster.Outbound.MtaSts;

/// <summary>The policy cache in its own SQLite file (<c>{DataDir}/mta-sts.db</c>) on the embedded single node.</summary>
public sealed class SqliteMtaStsStore(string path) : IMtaStsStore
{
    public const string FileName = "mta-sts.db";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS mc_mta_sts_policy(
            domain TEXT PRIMARY KEY NOT NULL,
            txt_id TEXT NOT NULL,
            policy TEXT NOT NULL,
            fetched_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL);
        """;

    // A cache: it never set the synchronous level, so it does not start now.
    private readonly SqliteDatabase _db = new(path, Schema, synchronousFull: false);

    /// <summary>Creates the schema if missing; every other call also does so on first use, so that a database down at
    /// start-up delays nothing but MTA-STS.</summary>
    public Task InitializeAsync(CancellationToken cancellationToken) => _db.CreateAsync(cancellationToken);

    public async Task<StoredMtaStsPolicy?> GetAsync(string domain, CancellationToken cancellationToken)
    {
        await _db.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _db.OpenAsync(cancellationToken).ConfigureAwait(false);
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
        await _db.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _db.OpenAsync(cancellationToken).ConfigureAwait(false);
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
