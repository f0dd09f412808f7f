using System.Net;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T130 (#18 soak: a data directory that stays flat): the journal keeps only what recovery and the delivery-events
/// projection still need. 120 messages are delivered and one stays deferred (the sink answers 451 for its recipient)
/// on a node that snapshots every 20 events and compacts every 10 s: the compaction deletes the queue's events below
/// its latest snapshot (journal.db holds far fewer rows than were written, the first ones are gone), the events of the
/// first message are still served (projected before they were deleted), and after a restart on the same data the
/// deferred message is still queued and is delivered once the sink accepts it, exactly once, with nothing delivered
/// twice.
/// </summary>
[ParallelScenario]
public sealed class T130_JournalCompaction
{
    private const int Delivered = 120;
    private const string Held = "held@relay.test";

    [Fact]
    public async Task Events_covered_by_a_snapshot_are_deleted_and_the_queue_still_recovers()
    {
        await using var scenario = await Scenario.StartAsync();
        var deferring = true;
        scenario.Sink.AddRule((stage, ctx) =>
            stage == SmtpStage.Rcpt && Volatile.Read(ref deferring) && string.Equals(ctx.Recipient, Held, StringComparison.OrdinalIgnoreCase)
                ? "451 4.2.0 Not now" : null);
        var config = scenario.NewNodeConfig(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MailCluster__Queue__SnapshotEvery"] = "20",
            ["MailCluster__Storage__JournalCompactionSeconds"] = "10",
        });
        var node = await scenario.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage(Held, "T130 held"));
        for (int i = 0; i < Delivered; i++)
        {
            await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"r{i}@relay.test", $"T130 {i}"));
        }

        await scenario.Sink.WaitForMessagesAsync(Delivered, TimeSpan.FromSeconds(120));
        await node.WaitForLogAsync("Journal compaction deleted", TimeSpan.FromSeconds(60));

        var journal = Path.Combine(scenario.DataDir, "journal.db");
        var (rows, lowest, highest) = await QueueRowsAsync(journal);
        Assert.True(highest >= 2 * Delivered, $"the queue wrote {highest} events"); // Enqueued and outcome per message at least (the details ride inside them)
        Assert.True(lowest > 1, $"the queue's first events are gone (lowest sequence number {lowest})");
        Assert.True(rows < highest / 2, $"{rows} of {highest} events kept");

        using (var api = QueueApiClient.For(config))
        {
            var events = await QueueApiClient.GetJsonAsync(api, "/api/v1/events?recipient=r0@relay.test", HttpStatusCode.OK);
            Assert.Contains(events.GetProperty("events").EnumerateArray(), e => e.GetProperty("type").GetString() == "Delivery");
        }

        Assert.Equal(0, await node.StopAsync(TimeSpan.FromSeconds(60)));
        node = await scenario.StartNodeAsync(config, "restarted");
        Assert.Equal(1, await InjectApi.QueuedAsync(config, Scenario.RelayDomain));
        Volatile.Write(ref deferring, false);
        await scenario.Sink.WaitForRecipientAsync(Held, TimeSpan.FromSeconds(60));
        await QueueWait.UntilEmptyAsync(config, Scenario.RelayDomain);

        var received = scenario.Sink.Messages.SelectMany(m => m.Recipients).ToList();
        Assert.Equal(Delivered + 1, received.Count);
        Assert.Equal(received.Count, received.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    /// <summary>The relay.test queue's rows in the journal: how many, and the lowest and highest sequence numbers.</summary>
    private static async Task<(long Rows, long Lowest, long Highest)> QueueRowsAsync(string path)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), MIN(sequence_number), MAX(sequence_number) FROM journal WHERE persistence_id = 'dq-relay.test'";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
