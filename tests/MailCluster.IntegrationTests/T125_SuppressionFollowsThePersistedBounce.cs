using MailCluster.IntegrationTests.Infrastructure;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T125: the suppression entry of a hard bounce follows the persisted outcome, not a write on the side. The sink
/// refuses gone@relay.test with 550 5.1.1; an authenticated submission to it bounces, and the node is killed (kill -9)
/// as soon as it logs the bounce (the log line follows the persist). A kill cannot be timed between the persist and
/// the write of the entry, because there is no such write any more: the entry is written by the suppression projection
/// of the journal, which stores its offset after the entry. So the test puts the data where a kill landing before the
/// projection got to the bounce would leave it: the entry removed from access.db and the projection's offset removed
/// from events.db, the journal untouched. After a restart the entry is back from the journal alone (once, dated by the
/// bounce, not by the replay) and RCPT to the address is refused with 550 5.7.1.
/// </summary>
[ParallelScenario]
public sealed class T125_SuppressionFollowsThePersistedBounce
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_hard_bounce_ends_in_the_suppression_list_from_the_journal_after_kill_9()
    {
        await using var scenario = await Scenario.StartAsync();
        var gone = $"gone@{Scenario.RelayDomain}";
        scenario.Sink.RefuseRecipient(gone, $"550 5.1.1 <{gone}>: Recipient address rejected: User unknown in virtual mailbox table");
        var config = scenario.NewNodeConfig(SuppressionScenario.Environment());
        var node = await scenario.StartNodeAsync(config, "node-t125");

        Assert.Null(await SuppressionScenario.SubmitAsync(config.SubmissionsPort, gone, "T125 bounces"));
        await node.WaitForLogAsync($"to=<{gone}>, status=bounced", Wait);
        node.Kill();
        var killedAt = DateTimeOffset.UtcNow;

        // Where a kill before the projection's batch leaves the node: no entry, no stored offset past the bounce.
        Assert.True(await ExecuteAsync("access.db", "DELETE FROM mc_suppression WHERE address = $a", ("$a", gone)) <= 1);
        Assert.True(await ExecuteAsync("events.db", "DELETE FROM mc_event_projection WHERE name = $n", ("$n", "suppression")) <= 1);
        Assert.Equal(0L, await ScalarAsync("access.db", "SELECT count(*) FROM mc_suppression WHERE address = $a", ("$a", gone)));

        node = await scenario.StartNodeAsync(config, "node-t125-restarted");
        using var api = QueueApiClient.For(config);
        var entry = await SuppressionScenario.WaitForEntryAsync(api, gone, Wait);
        Assert.Equal("hard bounce (InvalidRecipient)", entry.GetProperty("reason").GetString());
        Assert.Contains("550 5.1.1", entry.GetProperty("source").GetString(), StringComparison.Ordinal);
        Assert.True(entry.GetProperty("createdAt").GetDateTimeOffset() <= killedAt, "the entry is dated by the bounce, not by its replay");
        Assert.Single(await SuppressionScenario.ListAsync(api), e => e.GetProperty("address").GetString() == gone);

        var refused = await SuppressionScenario.SubmitAsync(config.SubmissionsPort, gone, "T125 second");
        Assert.NotNull(refused);
        Assert.Equal(550, (int)refused.StatusCode);
        Assert.Contains("5.7.1", refused.Message, StringComparison.Ordinal);
        Assert.Contains("suppressed: hard bounce (InvalidRecipient)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, scenario.Sink.CommandLines.Count(l => l.StartsWith($"RCPT TO:<{gone}>", StringComparison.OrdinalIgnoreCase)));

        async Task<int> ExecuteAsync(string file, string sql, (string Name, object Value) parameter)
        {
            await using var connection = Open(file);
            await using var command = Command(connection, sql, parameter);
            return await command.ExecuteNonQueryAsync();
        }

        async Task<long> ScalarAsync(string file, string sql, (string Name, object Value) parameter)
        {
            await using var connection = Open(file);
            await using var command = Command(connection, sql, parameter);
            return (long)(await command.ExecuteScalarAsync())!;
        }

        SqliteConnection Open(string file)
        {
            var connection = new SqliteConnection($"Data Source={Path.Combine(scenario.DataDir, file)};Pooling=False");
            connection.Open();
            return connection;
        }
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, (string Name, object Value) parameter)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue(parameter.Name, parameter.Value);
        return command;
    }
}
