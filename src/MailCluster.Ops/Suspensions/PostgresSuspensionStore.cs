using MailCluster.Queue.Suspensions;
using MailCluster.Queue.Tables;
using Npgsql;
using NpgsqlTypes;

namespace MailCluster.Ops.Suspensions;

/// <summary>Suspensions in the cluster's shared PostgreSQL (table <c>mc_destination_suspension</c>), read by every node.
/// The end time is written by the node that took the request (its clock; cluster nodes keep NTP time, and a second of
/// skew only moves the end by that second).</summary>
public sealed class PostgresSuspensionStore : ISuspensionStore
{
    // The advisory lock serialises nodes starting together (concurrent CREATE TABLE IF NOT EXISTS can fail otherwise).
    private const string Schema = """
        SELECT pg_advisory_xact_lock(hashtext('mc_destination_suspension_schema'));
        CREATE TABLE IF NOT EXISTS mc_destination_suspension(
            domain text PRIMARY KEY,
            reason text NOT NULL,
            created_at timestamptz NOT NULL,
            until_at timestamptz NOT NULL);
        """;

    // One statement, so replacing is atomic: ended rows go, and the domain's row is inserted or replaced; xmax = 0 tells
    // an insert from an update, and the old row's end says whether it was still active.
    private const string PutSql = """
        WITH ended AS (DELETE FROM mc_destination_suspension WHERE until_at <= $5 AND domain <> $1),
             old AS (SELECT until_at FROM mc_destination_suspension WHERE domain = $1 AND until_at > $5)
        INSERT INTO mc_destination_suspension(domain, reason, created_at, until_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (domain) DO UPDATE SET reason = EXCLUDED.reason, created_at = EXCLUDED.created_at, until_at = EXCLUDED.until_at
        RETURNING (SELECT count(*) FROM old)
        """;

    private readonly NpgsqlDataSource _dataSource;

    public PostgresSuspensionStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        _dataSource = NpgsqlDataSource.Create(connectionString);
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresSchema.CreateAsync(_dataSource, Schema, cancellationToken);

    public async Task<IReadOnlyList<DestinationSuspension>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT domain, reason, created_at, until_at FROM mc_destination_suspension ORDER BY domain");
        var list = new List<DestinationSuspension>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(new DestinationSuspension(reader.GetString(0), reader.GetString(1), Utc(reader.GetFieldValue<DateTime>(2)), Utc(reader.GetFieldValue<DateTime>(3))));
            }
        }

        return list;
    }

    public async Task<bool> PutAsync(DestinationSuspension suspension, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(suspension);
        await using var command = _dataSource.CreateCommand(PutSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = suspension.Domain });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = suspension.Reason });
        command.Parameters.Add(Time(suspension.CreatedAt));
        command.Parameters.Add(Time(suspension.Until));
        command.Parameters.Add(Time(now));
        var replaced = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return replaced is long n && n > 0;
    }

    public async Task<bool> DeleteAsync(string domain, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            WITH ended AS (DELETE FROM mc_destination_suspension WHERE until_at <= $2 AND domain <> $1)
            DELETE FROM mc_destination_suspension WHERE domain = $1 RETURNING until_at > $2
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = domain });
        command.Parameters.Add(Time(now));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private static NpgsqlParameter<DateTime> Time(DateTimeOffset at) => new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = at.UtcDateTime };

    private static DateTimeOffset Utc(DateTime at) => new(DateTime.SpecifyKind(at, DateTimeKind.Utc), TimeSpan.Zero);
}
