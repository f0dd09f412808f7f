using System.Globalization;
using MailCluster.Testing;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>Reads and writes a node's SQLite spool file from outside the node (the sweep scenarios T50, T52), and the
/// sweep's run counter from the node's metrics.</summary>
internal static class SpoolFile
{
    /// <summary>The body's references (domains), or null when the body is gone.</summary>
    public static async Task<List<string>?> ReferencesAsync(string spoolPath, string messageId)
    {
        await using var connection = await OpenAsync(spoolPath);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT r.domain FROM mc_spool s LEFT JOIN mc_spool_ref r ON r.message_id = s.message_id WHERE s.message_id = $id ORDER BY r.domain";
        command.Parameters.AddWithValue("$id", messageId);
        await using var reader = await command.ExecuteReaderAsync();
        List<string>? domains = null;
        while (await reader.ReadAsync())
        {
            domains ??= [];
            if (!reader.IsDBNull(0))
            {
                domains.Add(reader.GetString(0));
            }
        }

        return domains;
    }

    public static async Task ExecuteAsync(string spoolPath, string sql)
    {
        await using var connection = await OpenAsync(spoolPath);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Sweep runs the node has completed (its /metrics, through <paramref name="opsClient"/>).</summary>
    public static async Task<double> CompletedSweepsAsync(HttpClient opsClient) =>
        PrometheusText.Parse(await opsClient.GetStringAsync(new Uri("/metrics", UriKind.Relative))).GetValueOrDefault("mailcluster_spool_sweep_runs_total{result=\"completed\"}");

    /// <summary>Waits until <paramref name="condition"/> holds; fails with <paramref name="failure"/> and the node's log
    /// after <paramref name="wait"/>.</summary>
    public static async Task PollAsync(Func<Task<bool>> condition, string failure, NodeProcess node, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{failure} within {wait.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s; node log:\n{node.Log}");
            await Task.Delay(250);
        }
    }

    private static async Task<SqliteConnection> OpenAsync(string spoolPath)
    {
        var connection = new SqliteConnection($"Data Source={spoolPath};Pooling=False;Default Timeout=10");
        await connection.OpenAsync();
        return connection;
    }
}
