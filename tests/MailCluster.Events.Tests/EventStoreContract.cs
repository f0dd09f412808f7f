using MailCluster.Queue.Events;
using MailCluster.Queue.Protocol;
using Xunit;

namespace MailCluster.Events.Tests;

/// <summary>The projection over a real events store (SQLite, PostgreSQL): exactly once across a restart, paging by
/// offset, filters. PostgreSQL writes a batch set-wise (<see cref="PostgresEventWrites"/>), SQLite row by row.</summary>
public abstract class EventStoreContract : IAsyncLifetime
{
    private static readonly DateTimeOffset Arrived = DateTimeOffset.UtcNow.AddMinutes(-1);
    private EventStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = await CreateAsync();
        await _store.InitializeAsync(CancellationToken.None);
    }

    public abstract ValueTask DisposeAsync();

    protected abstract Task<EventStore> CreateAsync();

    [Fact]
    public async Task A_restarted_projection_resumes_after_its_offset_and_keeps_the_context()
    {
        var first = new EventProjection(_store, null, null, TimeProvider.System);
        await first.ApplyAsync([
            (3, new ReceptionDetails("Q1", "<m@x>", 99, "bob", null, "c", "127.0.0.1", null, null, "n1")),
            (4, new Enqueued("example.com", "Q1", "s@example.org", ["a@example.com"], Arrived)),
        ], CancellationToken.None);
        Assert.Equal(4, await first.StartOffsetAsync(CancellationToken.None));

        // A new projection (another node after a hand-over) has no cache: the context comes from the table.
        var second = new EventProjection(_store, null, null, TimeProvider.System);
        await second.ApplyAsync([
            (9, new AttemptCompleted("Q1", Arrived, [new RecipientResult("a@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null)], "mx", null)),
        ], CancellationToken.None);

        var all = await _store.QueryAsync(new EventQuery(0, 100, QueueId: "Q1"), CancellationToken.None);
        Assert.Equal([EventTypes.Reception, EventTypes.Delivery], all.Select(e => e.Type));
        var delivery = DeliveryEvent.FromJson(all[1].Record)!;
        Assert.Equal(("<m@x>", "bob", 99L, "s@example.org", 1), (delivery.MessageId, delivery.Credential, delivery.Size!.Value, delivery.Sender, delivery.Attempt!.Value));
        Assert.Equal(9, await second.StartOffsetAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Pages_by_offset_and_filters_by_recipient_type_and_time()
    {
        var projection = new EventProjection(_store, null, null, TimeProvider.System);
        await projection.ApplyAsync([
            (1, new Enqueued("example.com", "Q1", "s@example.org", ["a@example.com", "B@example.com"], Arrived)),
            (2, new AttemptCompleted("Q1", Arrived, [new RecipientResult("b@example.com", RecipientResultKind.Failed, 550, "5.1.1", "no", null)], "mx", null)),
        ], CancellationToken.None);
        await new SuppressedEvents(_store, "n1").RecordAsync(
            new Queue.Contracts.SuppressedRecipient("s@example.org", "c@example.com", "hard bounce", "bob", Arrived, new Dictionary<string, string>()), CancellationToken.None);

        var page1 = await _store.QueryAsync(new EventQuery(0, 2), CancellationToken.None);
        var page2 = await _store.QueryAsync(new EventQuery(page1[^1].Offset, 2), CancellationToken.None);
        Assert.Equal([EventTypes.Reception, EventTypes.Reception, EventTypes.Bounce, EventTypes.Suppressed], page1.Concat(page2).Select(e => e.Type));
        Assert.True(page1.Concat(page2).Select(e => e.Offset).SequenceEqual(page1.Concat(page2).Select(e => e.Offset).Order()));

        Assert.Equal(2, (await _store.QueryAsync(new EventQuery(0, 10, Recipient: "b@EXAMPLE.com"), CancellationToken.None)).Count);
        Assert.Equal([EventTypes.Bounce, EventTypes.Suppressed], (await _store.QueryAsync(new EventQuery(0, 10, Types: [EventTypes.Bounce, EventTypes.Suppressed]), CancellationToken.None)).Select(e => e.Type));
        Assert.Empty(await _store.QueryAsync(new EventQuery(0, 10, Since: DateTimeOffset.UtcNow.AddMinutes(1)), CancellationToken.None));

        // Replaying the same journal rows (a stream that re-read them) adds nothing: the ids are the rows'.
        await new EventProjection(_store, null, null, TimeProvider.System).ApplyAsync(
            [(1, new Enqueued("example.com", "Q1", "s@example.org", ["a@example.com", "B@example.com"], Arrived))], CancellationToken.None);
        Assert.Equal(4, (await _store.QueryAsync(new EventQuery(0, 100), CancellationToken.None)).Count);

        Assert.Equal(4L, await _store.PruneAsync(DateTimeOffset.UtcNow.AddMinutes(1), DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None));
    }

    [Fact]
    public async Task Pruning_deletes_every_expired_event_in_batches_and_keeps_the_rest()
    {
        string[] recipients = [.. Enumerable.Range(0, 7).Select(i => $"r{i}@example.com")];
        var later = DateTimeOffset.UtcNow.AddMinutes(10);
        await new EventProjection(_store, null, null, TimeProvider.System).ApplyAsync([
            (1, new Enqueued("example.com", "Q1", "s@example.org", recipients, Arrived)),
            (2, new AttemptCompleted("Q1", later, [new RecipientResult("r0@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null)], "mx", null)),
        ], CancellationToken.None);

        // Seven Receptions a minute old, in batches of 3 (3, 3, 1); the Delivery, stamped ten minutes ahead, stays.
        Assert.Equal(7L, await _store.PruneAsync(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(-1), CancellationToken.None, batch: 3, pause: TimeSpan.FromMilliseconds(1)));
        var left = await _store.QueryAsync(new EventQuery(0, 100), CancellationToken.None);
        Assert.Equal([EventTypes.Delivery], left.Select(e => e.Type));

        // Nothing more is due; the context (touched just now) was kept and still serves the message's next event.
        Assert.Equal(0L, await _store.PruneAsync(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(-1), CancellationToken.None, batch: 3));
        Assert.Single(await _store.ContextsAsync(["Q1"], CancellationToken.None));
    }

    [Fact]
    public async Task A_finished_message_loses_its_context_in_the_outcomes_commit_and_an_unfinished_one_keeps_it()
    {
        await new EventProjection(_store, null, null, TimeProvider.System).ApplyAsync([
            (1, new ReceptionDetails("Q1", "<m@x>", 99, "bob", null, "c", "127.0.0.1", null, null, "n1")),
            (2, new Enqueued("example.com", "Q1", "s@example.org", ["a@example.com", "b@example.com"], Arrived)),
            (3, new Enqueued("example.net", "Q2", "s@example.org", ["c@example.net"], Arrived)),
            (4, new AttemptCompleted("Q1", Arrived, [
                new RecipientResult("a@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null),
                new RecipientResult("b@example.com", RecipientResultKind.Deferred, 451, "4.2.2", "full", Arrived.AddMinutes(5)),
            ], "mx", null)),
            (5, new AttemptCompleted("Q2", Arrived, [new RecipientResult("c@example.net", RecipientResultKind.Failed, 550, "5.1.1", "no", null)], "mx", null)),
        ], CancellationToken.None);
        Assert.Equal(["Q1"], (await _store.ContextsAsync(["Q1", "Q2"], CancellationToken.None)).Keys);

        // Another node's projection (no cache) reads Q1's context from the table: the second attempt counts as 2 and
        // carries the acceptance details; it finishes Q1, whose context goes in the same transaction.
        await new EventProjection(_store, null, null, TimeProvider.System).ApplyAsync([
            (6, new AttemptCompleted("Q1", Arrived, [new RecipientResult("b@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null)], "mx", null)),
        ], CancellationToken.None);
        var last = DeliveryEvent.FromJson((await _store.QueryAsync(new EventQuery(0, 100, QueueId: "Q1"), CancellationToken.None))[^1].Record)!;
        Assert.Equal((EventTypes.Delivery, 2, "bob", "<m@x>"), (last.Type, last.Attempt!.Value, last.Credential, last.MessageId));
        Assert.Empty(await _store.ContextsAsync(["Q1", "Q2"], CancellationToken.None));
    }

    [Fact]
    public async Task Pruning_keeps_the_events_a_webhook_has_not_had_whatever_their_age()
    {
        await new EventProjection(_store, null, null, TimeProvider.System).ApplyAsync([
            (1, new Enqueued("example.com", "Q1", "s@example.org", ["a@example.com", "b@example.com", "c@example.com"], Arrived)),
        ], CancellationToken.None);
        var offsets = (await _store.QueryAsync(new EventQuery(0, 100), CancellationToken.None)).Select(e => e.Offset).ToList();
        var hook = new Webhooks.WebhookDefinition("wh_slow", "http://127.0.0.1:9/", "s", [], 1, null, Webhooks.WebhookDefinition.ApiOrigin, Arrived);
        await _store.UpsertWebhookAsync(hook, offsets[0], CancellationToken.None);
        await _store.UpsertWebhookAsync(hook with { Id = "wh_fast" }, offsets[2], CancellationToken.None);

        // All three are past the retention, but the slow webhook has had only the first.
        Assert.Equal(1L, await _store.PruneAsync(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(-1), CancellationToken.None, batch: 2));
        Assert.Equal(offsets[1..], (await _store.QueryAsync(new EventQuery(0, 100), CancellationToken.None)).Select(e => e.Offset));

        // Once no webhook is behind (the slow one deleted), the rest goes.
        Assert.True(await _store.DeleteWebhookAsync("wh_slow", CancellationToken.None));
        Assert.Equal(2L, await _store.PruneAsync(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(-1), CancellationToken.None, batch: 2));
    }
}

public sealed class SqliteEventStoreTests : EventStoreContract
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mc-events-").FullName;

    public override ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return ValueTask.CompletedTask;
    }

    protected override Task<EventStore> CreateAsync() => Task.FromResult(EventStore.Sqlite(Path.Combine(_dir, "events.db")));
}

public sealed class PostgresEventStoreTests : EventStoreContract
{
    private MailCluster.Testing.PostgresServer? _server;

    public override async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    protected override async Task<EventStore> CreateAsync()
    {
        _server = await MailCluster.Testing.PostgresServer.StartAsync();
        return EventStore.Postgres(await _server.CreateDatabaseAsync("events"));
    }
}
