using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T134 (issue #13, the stored format is a contract): release 302fb42 wrote each delivery-event detail as a journal row
/// of its own (<c>mc.queue.reception-details.v1</c> before its Enqueued, <c>mc.queue.attempt-details.v1</c> before its
/// AttemptCompleted); today's code puts them inside the event. Its fixture (<c>tests/fixtures/release-302fb42</c>,
/// recreated by its <c>make.sh</c>: eleven messages, one submitted with AUTH and an <c>X-MC-Meta-campaign</c> field,
/// each recipient deferred once, the node stopped with SIGTERM) is copied into a fresh data directory, with the events
/// database 302fb42 wrote or without it; today's node starts on it with the sink now accepting.
/// <list type="bullet">
/// <item>Every message arrives exactly once with its sender and recipients, and the queues end empty (as T53).</item>
/// <item>Each fixture reception has one Reception event per recipient with the Message-ID, client, credential and meta
/// 302fb42 recorded, and one TransientFailure (attempt 1) with the next hop of its attempt-details row: kept from the
/// old events database, or projected again from offset 0 without it, then equal field by field to what 302fb42's own
/// projection stored.</item>
/// <item>Each recipient's Delivery event (attempt 2) has the message's Message-ID, credential, meta and arrival time
/// from those old rows, and the new attempt's peer (this scenario's sink) and node.</item>
/// </list>
/// </summary>
[ParallelScenario]
public class T134_RecoversEventDetailRows
{
    private const string Release = "release-302fb42";
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Detail_rows_of_the_previous_release_give_the_same_events_and_deliver_once(bool withEventsDatabase)
    {
        var fixture = ReleaseFixture.Open(Release, "sigterm");
        Assert.Equal(11, fixture.Manifest.Count);
        Assert.Equal(fixture.Manifest.Select(m => m.QueueId), fixture.Receptions.Select(r => r.QueueId));
        var nextHop = fixture.NextHop ?? throw new InvalidOperationException("the fixture has no next-hop.tsv");

        await using var scenario = await Scenario.StartAsync(
        [
            DnsmasqServer.Mx("hot.test", "mx1.relay.test", 10),
            DnsmasqServer.Mx("other.test", "mx1.relay.test", 10),
        ]);
        fixture.CopyTo(scenario.DataDir, withEventsDatabase ? ["journal.db", "spool.db", "events.db"] : ["journal.db", "spool.db"]);
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Domains__Relay__1"] = "hot.test",
            ["MailCluster__Domains__Relay__2"] = "other.test",
            ["MailCluster__Queue__Buckets__0__Domain"] = "hot.test",
            ["MailCluster__Queue__Buckets__0__Count"] = "4",

            // The fixture's mail and events are as old as the fixture: neither may expire or be pruned here.
            ["MailCluster__Retry__MaxAgeSeconds"] = "3153600000",
            ["MailCluster__Events__RetentionDays"] = "3650",
        });
        var node = await scenario.StartNodeAsync(config);
        using var http = QueueApiClient.For(config);

        // (a) Every message of the fixture delivered exactly once.
        var expected = fixture.Manifest.SelectMany(m => m.Recipients).Order(StringComparer.Ordinal).ToList();
        await WaitForAsync(() => Task.FromResult(scenario.Sink.Messages.Sum(m => m.Recipients.Count) >= expected.Count), "every fixture recipient delivered", node);
        await WaitForAsync(async () => QueuesEmpty(PrometheusText.Parse(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)))), "the domain queues empty", node);
        var received = scenario.Sink.Messages;
        Assert.Equal(expected, received.SelectMany(m => m.Recipients).Order(StringComparer.Ordinal));
        foreach (var message in fixture.Manifest)
        {
            var copies = received.Where(r => ReleaseFixture.Subject(r.Data) == message.Subject).ToList();
            Assert.All(copies, r => Assert.Equal(message.Sender, r.MailFrom));
            Assert.Equal(message.Recipients.Order(StringComparer.Ordinal), copies.SelectMany(r => r.Recipients).Order(StringComparer.Ordinal));
        }

        // Every recipient's Delivery projected (the projection may trail the deliveries).
        List<JsonElement> events = [];
        await WaitForAsync(async () => (events = await AllEventsAsync(http)).Count(e => Type(e) == "Delivery") >= expected.Count, "a Delivery event per recipient", node);
        var stored = StoredBy302fb42(fixture);
        var thisNode = $"127.0.0.1:{config.Environment["MailCluster__Cluster__Port"]}";
        foreach (var (message, reception) in fixture.Manifest.Zip(fixture.Receptions))
        {
            foreach (var recipient in message.Recipients)
            {
                var mine = events.Where(e => e.GetProperty("queue_id").GetString() == message.QueueId && e.GetProperty("recipient").GetString() == recipient).ToList();
                var arrival = Assert.Single(mine, e => Type(e) == "Reception");
                AssertReception(reception, arrival);
                AssertAboutTheMessage(reception, arrival, arrival);
                var failure = Assert.Single(mine, e => Type(e) == "TransientFailure");
                Assert.Equal(1, failure.GetProperty("attempt").GetInt32());
                Assert.Equal<(string?, string?)>(nextHop, Peer(failure));
                AssertAboutTheMessage(reception, arrival, failure);

                // What today's code has is what 302fb42 recorded: kept, or projected again from the same rows.
                Assert.Equal(stored.GetValueOrDefault(Id(arrival)), WithoutOffset(arrival));
                Assert.Equal(stored.GetValueOrDefault(Id(failure)), WithoutOffset(failure));

                var delivery = Assert.Single(mine, e => Type(e) == "Delivery");
                Assert.Equal(2, delivery.GetProperty("attempt").GetInt32());
                AssertAboutTheMessage(reception, arrival, delivery);
                Assert.Equal(("mx1.relay.test", $"127.0.0.1:{scenario.Sink.Port.ToString(CultureInfo.InvariantCulture)}"), Peer(delivery));
                Assert.Equal(thisNode, delivery.GetProperty("node").GetString());
                Assert.NotEqual(failure.GetProperty("node").GetString(), thisNode); // 302fb42's node ran the first attempt
            }
        }

        // The authenticated submission is in the fixture, so the checks above covered a credential and meta.
        Assert.Contains(fixture.Receptions, r => r.Credential is not null && r.Meta is { Count: > 0 });
        Assert.Equal(events.Count, events.Select(Id).Distinct().Count());
    }

    /// <summary>The reception as 302fb42's rows say it was: the Message-ID field, the client (EHLO name and address),
    /// the credential and the meta.</summary>
    private static void AssertReception(FixtureReception reception, JsonElement arrival)
    {
        Assert.Equal(0, arrival.GetProperty("attempt").GetInt32());
        Assert.Equal((reception.PeerName, reception.PeerAddress), Peer(arrival));
        Assert.Equal(arrival.GetProperty("timestamp").GetDateTimeOffset(), arrival.GetProperty("created").GetDateTimeOffset());
        Assert.True(arrival.GetProperty("size").GetInt64() > 0);
    }

    /// <summary>Every event of the message carries what its reception recorded, and its arrival time.</summary>
    private static void AssertAboutTheMessage(FixtureReception reception, JsonElement arrival, JsonElement e)
    {
        Assert.Equal(reception.MessageId, e.GetProperty("message_id").GetString());
        Assert.Equal(reception.Credential, e.GetProperty("credential").GetString());
        Assert.Equal(MetaText(reception.Meta), e.GetProperty("meta").ValueKind == JsonValueKind.Null ? null
            : MetaText(e.GetProperty("meta").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal)));
        Assert.Equal(arrival.GetProperty("created").GetDateTimeOffset(), e.GetProperty("created").GetDateTimeOffset());
        Assert.Equal(arrival.GetProperty("size").GetInt64(), e.GetProperty("size").GetInt64());
    }

    private static string? MetaText(IReadOnlyDictionary<string, string>? meta) =>
        meta is null ? null : string.Join(';', meta.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>The event records 302fb42's projection stored in the fixture's events.db, by event id.</summary>
    private static Dictionary<string, string> StoredBy302fb42(ReleaseFixture fixture)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(fixture.Directory, "events.db")};Mode=ReadOnly;Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT event_id, record FROM mc_event";
        using var reader = command.ExecuteReader();
        var stored = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            stored[reader.GetString(0)] = JsonNode.Parse(reader.GetString(1))!.ToJsonString();
        }

        return stored;
    }

    private static async Task<List<JsonElement>> AllEventsAsync(HttpClient http)
    {
        var all = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            var page = await QueueApiClient.GetJsonAsync(http, $"/api/v1/events?after={after.ToString(CultureInfo.InvariantCulture)}&limit=1000", HttpStatusCode.OK);
            var events = page.GetProperty("events").EnumerateArray().ToList();
            if (events.Count == 0)
            {
                return all;
            }

            all.AddRange(events);
            after = page.GetProperty("next_after").GetInt64();
        }
    }

    private static string? Type(JsonElement e) => e.GetProperty("type").GetString();

    private static string Id(JsonElement e) => e.GetProperty("event_id").GetString()!;

    private static (string?, string?) Peer(JsonElement e) =>
        e.GetProperty("peer") is { ValueKind: JsonValueKind.Object } peer ? (peer.GetProperty("name").GetString(), peer.GetProperty("address").GetString()) : (null, null);

    private static string WithoutOffset(JsonElement e)
    {
        var record = JsonNode.Parse(e.GetRawText())!.AsObject();
        record.Remove("offset");
        return record.ToJsonString();
    }

    /// <summary>Every queue on the node answered and holds nothing, and nothing is being delivered.</summary>
    private static bool QueuesEmpty(Dictionary<string, double> metrics) =>
        metrics.GetValueOrDefault("mailcluster_queue_recipients", -1) == 0
        && metrics.GetValueOrDefault("mailcluster_queue_deliveries_in_flight", -1) == 0
        && metrics.GetValueOrDefault("mailcluster_queue_status_unanswered") == 0;

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what, NodeProcess node)
    {
        var deadline = DateTime.UtcNow + Settle;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not {what} within {Settle.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s; node log:\n{node.Tail(200)}");
            await Task.Delay(250);
        }
    }
}
