using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace MailCluster.Outbound.TlsRpt;

/// <summary>The key of one counter: period start (unix seconds), policy domain and the session's kind.</summary>
public sealed record TlsRptKey(long PeriodStart, string Domain, string PolicyType, string Policy, string Result, string MxHost, string ReceivingIp);

/// <summary>
/// The cluster's TLS-RPT tables, in the shared PostgreSQL or <c>{DataDir}/tls-rpt.db</c> (SQLite), with the same SQL:
/// <c>mc_tls_rpt_count</c> (counters every node adds to; the policy body is keyed by its hash) and
/// <c>mc_tls_rpt_report</c> (one row per domain and period, inserted by the node that sends the report: the insert
/// is the claim, so one report goes out per domain and period whichever nodes run the reporter).
/// </summary>
public sealed class TlsRptStore : IAsyncDisposable
{
    public const string SqliteFileName = "tls-rpt.db";

    private const string Tables = """
        CREATE TABLE IF NOT EXISTS mc_tls_rpt_count(
            period_start bigint NOT NULL, domain text NOT NULL, policy_type text NOT NULL, policy_hash text NOT NULL,
            policy text NOT NULL, result text NOT NULL, mx_host text NOT NULL, receiving_ip text NOT NULL, count bigint NOT NULL,
            PRIMARY KEY (period_start, domain, policy_type, policy_hash, result, mx_host, receiving_ip));
        CREATE TABLE IF NOT EXISTS mc_tls_rpt_report(
            period_start bigint NOT NULL, domain text NOT NULL, node text NOT NULL, state text NOT NULL, at bigint NOT NULL,
            PRIMARY KEY (period_start, domain));
        """;

    private readonly NpgsqlDataSource? _postgres;
    private readonly string? _sqlite;
    private volatile bool _ready;

    private TlsRptStore(NpgsqlDataSource? postgres, string? sqlite)
    {
        _postgres = postgres;
        _sqlite = sqlite;
    }

    public static TlsRptStore Postgres(string connectionString) => new(NpgsqlDataSource.Create(connectionString), null);

    public static TlsRptStore Sqlite(string path) => new(null, new SqliteConnectionStringBuilder
    {
        DataSource = Path.GetFullPath(path),
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = 10,
    }.ToString());

    /// <summary>Adds the counts in one transaction.</summary>
    public async Task AddAsync(IReadOnlyCollection<KeyValuePair<TlsRptKey, long>> counts, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(counts);
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        foreach (var (k, n) in counts)
        {
            await ExecuteAsync(connection, transaction, """
                INSERT INTO mc_tls_rpt_count(period_start, domain, policy_type, policy_hash, policy, result, mx_host, receiving_ip, count)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (period_start, domain, policy_type, policy_hash, result, mx_host, receiving_ip)
                DO UPDATE SET count = mc_tls_rpt_count.count + excluded.count
                """, ct, k.PeriodStart, k.Domain, k.PolicyType, Hash(k.Policy), k.Policy, k.Result, k.MxHost, k.ReceivingIp, n).ConfigureAwait(false);
        }

        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Domains and periods that ended before <paramref name="endedBefore"/> and have no report row yet.</summary>
    public async Task<IReadOnlyList<(long PeriodStart, string Domain)>> UnreportedAsync(long endedBefore, long periodSeconds, CancellationToken ct)
    {
        var rows = new List<(long, string)>();
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var command = Command(connection, null, """
            SELECT DISTINCT c.period_start, c.domain FROM mc_tls_rpt_count c
            WHERE c.period_start + $1 <= $2
              AND NOT EXISTS (SELECT 1 FROM mc_tls_rpt_report r WHERE r.period_start = c.period_start AND r.domain = c.domain)
            ORDER BY c.period_start, c.domain
            """, periodSeconds, endedBefore);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1)));
        }

        return rows;
    }

    public async Task<IReadOnlyList<TlsRptCount>> CountsAsync(long periodStart, string domain, CancellationToken ct)
    {
        var rows = new List<TlsRptCount>();
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var command = Command(connection, null,
            "SELECT policy_type, policy, result, mx_host, receiving_ip, count FROM mc_tls_rpt_count WHERE period_start = $1 AND domain = $2",
            periodStart, domain);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            rows.Add(new TlsRptCount(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt64(5)));
        }

        return rows;
    }

    /// <summary>Claims the report of a domain and period for this node; false when another node has it.</summary>
    public async Task<bool> TryClaimAsync(long periodStart, string domain, string node, long now, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        return await ExecuteAsync(connection, null,
            "INSERT INTO mc_tls_rpt_report(period_start, domain, node, state, at) VALUES ($1, $2, $3, 'sending', $4) ON CONFLICT (period_start, domain) DO NOTHING",
            ct, periodStart, domain, node, now).ConfigureAwait(false) == 1;
    }

    /// <summary>Records how the claimed report ended: <c>sent</c>, <c>no-rua</c>; or releases the claim (null) so
    /// that a later pass tries again.</summary>
    public async Task FinishAsync(long periodStart, string domain, string? state, long now, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        _ = state is null
            ? await ExecuteAsync(connection, null, "DELETE FROM mc_tls_rpt_report WHERE period_start = $1 AND domain = $2", ct, periodStart, domain).ConfigureAwait(false)
            : await ExecuteAsync(connection, null, "UPDATE mc_tls_rpt_report SET state = $3, at = $4 WHERE period_start = $1 AND domain = $2", ct, periodStart, domain, state, now).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        DbConnection connection = _postgres is not null ? _postgres.CreateConnection() : new SqliteConnection(_sqlite);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        if (!_ready)
        {
            // Created on first use, so that a database down at start-up delays nothing but the reports. The advisory
            // lock serialises PostgreSQL nodes starting together (concurrent CREATE TABLE IF NOT EXISTS can fail).
            string schema = _postgres is not null ? "SELECT pg_advisory_lock(hashtext('mc_tls_rpt_schema'));" + Tables + "SELECT pg_advisory_unlock(hashtext('mc_tls_rpt_schema'));" : "PRAGMA journal_mode=WAL;" + Tables;
            await ExecuteAsync(connection, null, schema, ct).ConfigureAwait(false);
            _ready = true;
        }

        return connection;
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken ct, params object[] values)
    {
        await using var command = Command(connection, transaction, sql, values);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Positional <c>$1..$n</c> parameters: Npgsql binds them by position, SQLite by the names "$1".."$n".</summary>
    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params object[] values)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        for (int i = 0; i < values.Length; i++)
        {
            if (command is SqliteCommand)
            {
                command.Parameters.Add(new SqliteParameter("$" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), values[i]));
            }
            else
            {
                command.Parameters.Add(new NpgsqlParameter { Value = values[i] });
            }
        }

        return command;
    }

    private static string Hash(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}
