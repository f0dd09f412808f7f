using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MailCluster.Testing;
using Npgsql;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// What a cluster scenario knows about mail it lost, for the failure message: per lost message, the node port that
/// answered 250 and when, the node's own id from "queued as", every journal and snapshot row that names that id, and every
/// line of every node's log (killed incarnations included) that names it. A loss in CI is then explained by the log.
/// </summary>
public static partial class LossReport
{
    public static async Task<string> DescribeAsync(ClusterHarness cluster, LoadResult result, IReadOnlyCollection<string> lost)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(lost);
        var text = new StringBuilder();
        foreach (var id in lost.Take(5))
        {
            result.AcceptedOn.TryGetValue(id, out var port);
            result.AcceptedAt.TryGetValue(id, out var at);
            result.AcceptedReply.TryGetValue(id, out var reply);
            text.Append(CultureInfo.InvariantCulture, $"{id}: 250 from port {port} at {at:HH:mm:ss.fff}: {reply}\n");
            if (reply is null || QueuedAs().Match(reply) is not { Success: true } match)
            {
                continue;
            }

            var queueId = match.Groups[1].Value;
            foreach (var row in await JournalRowsAsync(cluster.ConnectionString, queueId))
            {
                text.Append("  ").Append(row).Append('\n');
            }

            foreach (var line in cluster.Scenario.LogFiles.SelectMany(f => File.ReadLines(f).Where(l => l.Contains(queueId, StringComparison.Ordinal)).Select(l => $"{Path.GetFileName(f)}: {l}")).Take(20))
            {
                text.Append("  log ").Append(line).Append('\n');
            }
        }

        return text.ToString();
    }

    private static async Task<List<string>> JournalRowsAsync(string connectionString, string queueId)
    {
        var rows = new List<string>();
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT 'journal', persistence_id, sequence_number, coalesce(manifest, ''), created FROM journal WHERE position(convert_to($1, 'UTF8') in message) > 0 " +
                "UNION ALL SELECT 'snapshot', persistence_id, sequence_number, coalesce(manifest, ''), created FROM snapshot WHERE position(convert_to($1, 'UTF8') in snapshot) > 0 " +
                "ORDER BY 1, 2, 3",
                connection);
            command.Parameters.AddWithValue(queueId);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{reader.GetString(0)} {reader.GetString(1)} #{reader.GetInt64(2)} {reader.GetString(3)} at {new DateTime(reader.GetInt64(4), DateTimeKind.Utc):HH:mm:ss.fff}"));
            }
        }
        catch (NpgsqlException e)
        {
            rows.Add("(journal not readable: " + e.Message + ")");
        }

        return rows;
    }

    [GeneratedRegex(@"queued as (\S+)")]
    private static partial Regex QueuedAs();
}
