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
/// is the claim, so one report goes out per domain and period whichever nodes run the reporter; a claim left
/// "sending" by a node that died is taken over once its lease has run out, see <see cref="TlsRptClaim"/>).
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

    /// <summary>Domains and periods that ended before <paramref name="endedBefore"/> and have no report row yet, or a
    /// claim still "sending" (with the row, for <see cref="TlsRptClaim.Decide"/>).</summary>
    public async Task<IReadOnlyList<(long PeriodStart, string Domain, TlsRptClaimRow? Claim)>> UnreportedAsync(long endedBefore, long periodSeconds, CancellationToken ct)
    {
        var rows = new List<(long, string, TlsRptClaimRow?)>();
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var command = Command(connection, null, """
            SELECT d.period_start, d.domain, r.node, r.state, r.at
            FROM (SELECT DISTINCT period_start, domain FROM mc_tls_rpt_count WHERE period_start + $1 <= $2) d
            LEFT JOIN mc_tls_rpt_report r ON r.period_start = d.period_start AND r.domain = d.domain
            WHERE r.state IS NULL OR r.state = 'sending'
            ORDER BY d.period_start, d.domain
            """, periodSeconds, endedBefore);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var claim = reader.IsDBNull(2) ? null : new TlsRptClaimRow(reader.GetString(2), reader.GetString(3), reader.GetInt64(4));
            rows.Add((reader.GetInt64(0), reader.GetString(1), claim));
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

    /// <summary>
    /// Claims the report of a domain and period for <paramref name="node"/> at <paramref name="now"/> (unix ms, which
    /// then identifies the claim): inserts the row when <paramref name="expected"/> is null, else takes over the row
    /// only if it is still exactly <paramref name="expected"/> (compare-and-set). False when another node got there first.
    /// </summary>
    public async Task<bool> TryClaimAsync(long periodStart, string domain, string node, long now, TlsRptClaimRow? expected, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        return expected is null
            ? await ExecuteAsync(connection, null,
                "INSERT INTO mc_tls_rpt_report(period_start, domain, node, state, at) VALUES ($1, $2, $3, 'sending', $4) ON CONFLICT (period_start, domain) DO NOTHING",
                ct, periodStart, domain, node, now).ConfigureAwait(false) == 1
            : await ExecuteAsync(connection, null, """
                UPDATE mc_tls_rpt_report SET node = $3, at = $4
                WHERE period_start = $1 AND domain = $2 AND node = $5 AND state = $6 AND at = $7
                """, ct, periodStart, domain, node, now, expected.Node, expected.State, expected.At).ConfigureAwait(false) == 1;
    }

    /// <summary>Renews this node's claim (made or last renewed at <paramref name="claimedAt"/>) to
    /// <paramref name="now"/>; false when the claim is no longer this node's (it was taken over).</summary>
    public async Task<bool> RenewAsync(long periodStart, string domain, string node, long claimedAt, long now, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        return await ExecuteAsync(connection, null, """
            UPDATE mc_tls_rpt_report SET at = $5
            WHERE period_start = $1 AND domain = $2 AND node = $3 AND state = 'sending' AND at = $4
            """, ct, periodStart, domain, node, claimedAt, now).ConfigureAwait(false) == 1;
    }

    /// <summary>Records how this node's claim (at <paramref name="claimedAt"/>) ended: <c>sent</c>, <c>no-rua</c>; or
    /// releases it (null) so that a later pass tries again. A claim taken over meanwhile is left to its new holder.</summary>
    public async Task FinishAsync(long periodStart, string domain, string node, long claimedAt, string? state, long now, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        const string Mine = "period_start = $1 AND domain = $2 AND node = $3 AND state = 'sending' AND at = $4";
        _ = state is null
            ? await ExecuteAsync(connection, null, "DELETE FROM mc_tls_rpt_report WHERE " + Mine, ct, periodStart, domain, node, claimedAt).ConfigureAwait(false)
            : await ExecuteAsync(connection, null, "UPDATE mc_tls_rpt_report SET state = $5, at = $6 WHERE " + Mine, ct, periodStart, domain, node, claimedAt, state, now).ConfigureAwait(false);
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
