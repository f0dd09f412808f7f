using MailCluster.Queue.Tables;
using Npgsql;

namespace MailCluster.Outbound.MtaSts;

/// <summary>The policy cache in the cluster's shared PostgreSQL (table <c>mc_mta_sts_policy</c>), read by every node.</summary>
public sealed class PostgresMtaStsStore : IMtaStsStore
{
    // The advisory lock serialises nodes starting together (concurrent CREATE TABLE IF NOT EXISTS can fail).
    private const string Schema = """
        SELECT pg_advisory_xact_lock(hashtext('mc_mta_sts_policy_schema'));
        CREATE TABLE IF NOT EXISTS mc_mta_sts_policy(
            domain text PRIMARY KEY,
            txt_id text NOT NULL,
            policy text NOT NULL,
            fetched_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL);
        """;

    private readonly NpgsqlDataSource _dataSource;

    private readonly SchemaGate _schema;

    public PostgresMtaStsStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        _dataSource = NpgsqlDataSource.Create(connectionString);

        // The schema is created on first use, so that a database down at start-up delays nothing but MTA-STS.
        _schema = new SchemaGate(InitializeAsync);
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresSchema.CreateAsync(_dataSource, Schema, cancellationToken);

    public async Task<StoredMtaStsPolicy?> GetAsync(string domain, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand("SELECT txt_id, policy, fetched_at, expires_at FROM mc_mta_sts_policy WHERE domain = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = domain });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new StoredMtaStsPolicy(domain, reader.GetString(0), reader.GetString(1),
                new DateTimeOffset(reader.GetFieldValue<DateTime>(2), TimeSpan.Zero), new DateTimeOffset(reader.GetFieldValue<DateTime>(3), TimeSpan.Zero))
            : null;
    }

    public async Task PutAsync(StoredMtaStsPolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        await _schema.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO mc_mta_sts_policy(domain, txt_id, policy, fetched_at, expires_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (domain) DO UPDATE SET txt_id = excluded.txt_id, policy = excluded.policy,
                fetched_at = excluded.fetched_at, expires_at = excluded.expires_at
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = policy.Domain });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = policy.Id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = policy.Text });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz, TypedValue = policy.FetchedAt.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz, TypedValue = policy.ExpiresAt.UtcDateTime });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
