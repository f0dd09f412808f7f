using System.Text.Json;
using MailCluster.Queue.Contracts;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Events;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;
using Xunit;

namespace MailCluster.Events.Tests;

/// <summary>The journal → delivery event mapping: field names, types, attempts, peers, and the context it carries.</summary>
public sealed class EventMapperTests
{
    private static readonly DateTimeOffset Arrived = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);

    private static readonly ReceptionDetails Reception = new(
        "Q1", "<m1@example.org>", 1234, "alice", new Dictionary<string, string> { ["campaign"] = "c7" }, "client.example.org", "127.0.0.9", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "node-a:4053");

    private sealed class FixedClassifier : IBounceClassifier
    {
        public string? Classify(int code, string? enhancedCode, string text) => code == 550 ? "InvalidRecipient" : "QuotaIssues";
    }

    private static MessageContext Received()
    {
        var ctx = EventMapper.Map(10, Reception, null, null).Context;
        return EventMapper.Map(11, new Enqueued("example.com", "Q1", "alice@example.org", ["a@example.com", "b@example.com"], Arrived), ctx, null).Context!;
    }

    [Fact]
    public void Reception_is_one_event_per_recipient_with_the_acceptance_details()
    {
        var details = EventMapper.Map(10, Reception, null, null);
        Assert.Empty(details.Events);
        var result = EventMapper.Map(11, new Enqueued("example.com", "Q1", "alice@example.org", ["a@example.com", "b@example.com"], Arrived), details.Context, null);

        Assert.Equal(["11.0", "11.1"], result.Events.Select(e => e.EventId));
        var e = result.Events[1];
        Assert.Equal(EventTypes.Reception, e.Type);
        Assert.Equal(("Q1", "<m1@example.org>", "alice@example.org", "b@example.com", "example.com"), (e.QueueId, e.MessageId, e.Sender, e.Recipient, e.Domain));
        Assert.Equal(1234, e.Size);
        Assert.Equal(new EventPeer("client.example.org", "127.0.0.9"), e.Peer);
        Assert.Equal(new EventTls("TLSv1.3", "TLS_AES_256_GCM_SHA384"), e.Tls);
        Assert.Equal(("alice", "node-a:4053", 0), (e.Credential, e.Node, e.Attempt));
        Assert.Equal("c7", e.Meta!["campaign"]);
        Assert.Equal(Arrived, e.Created);
    }

    [Fact]
    public void A_message_is_finished_when_an_outcome_leaves_no_recipient_pending()
    {
        var ctx = Received();
        Assert.Equal(["a@example.com", "b@example.com"], ctx.Pending!.Order(StringComparer.Ordinal));

        var first = EventMapper.Map(21, new AttemptCompleted("Q1", Arrived, [
            new RecipientResult("A@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null),
            new RecipientResult("b@example.com", RecipientResultKind.Deferred, 451, "4.2.2", "full", Arrived.AddMinutes(5)),
        ], "mx", null), ctx, null);
        Assert.False(first.Finished);
        Assert.Equal(["b@example.com"], first.Context!.Pending!);

        // Stored and read back (another node, no cache) between the two outcomes.
        var stored = MessageContext.FromJson(first.Context.ToJson());
        var second = EventMapper.Map(30, new AttemptCompleted("Q1", Arrived, [
            new RecipientResult("b@example.com", RecipientResultKind.Expired, 0, "4.4.7", "too old", null),
        ], "mx", null), stored, null);
        Assert.True(second.Finished);
    }

    [Fact]
    public void A_context_stored_by_an_older_release_is_never_finished_by_its_outcomes()
    {
        // mc_event_message rows before Pending existed; such a message's context goes by age.
        var old = MessageContext.FromJson("""{"QueueId":"Q1","Sender":"alice@example.org","Created":"2026-12-06T04:00:00+00:00","Attempts":{"a@example.com":1}}""");
        Assert.Null(old.Pending);
        var other = EventMapper.Map(11, new Enqueued("example.net", "Q1", "alice@example.org", ["c@example.net"], Arrived), old, null);
        Assert.Null(other.Context!.Pending);

        var done = EventMapper.Map(21, new AttemptCompleted("Q1", Arrived, [
            new RecipientResult("a@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null),
            new RecipientResult("c@example.net", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null),
        ], "mx", null), other.Context, null);
        Assert.False(done.Finished);
        Assert.Equal(2, Assert.Single(done.Events, e => e.Recipient == "a@example.com").Attempt);
    }

    [Fact]
    public void Outcomes_map_to_their_types_with_the_attempts_next_hop_and_count()
    {
        var ctx = Received();
        var hop = EventMapper.Map(20, new AttemptDetails("Q1", Arrived, "mx1.example.com", "127.0.0.2:25", "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "node-b:4053"), ctx, null).Context;
        var first = EventMapper.Map(21, new AttemptCompleted("Q1", Arrived.AddMinutes(1), [
            new RecipientResult("a@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null),
            new RecipientResult("b@example.com", RecipientResultKind.Deferred, 451, "4.2.2", "mailbox full", Arrived.AddMinutes(5), "delayed"),
        ], "mx1.example.com", "TLSv1.2"), hop, new FixedClassifier());

        Assert.Equal([EventTypes.Delivery, EventTypes.TransientFailure, EventTypes.Delayed], first.Events.Select(e => e.Type));
        Assert.Equal(["21.0", "21.1", "21.2"], first.Events.Select(e => e.EventId));
        Assert.All(first.Events, e => Assert.Equal(new EventPeer("mx1.example.com", "127.0.0.2:25"), e.Peer));
        Assert.All(first.Events, e => Assert.Equal("node-b:4053", e.Node));
        Assert.Equal("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", first.Events[0].Tls!.Cipher);
        Assert.Null(first.Events[0].BounceClassification);
        Assert.Equal("QuotaIssues", first.Events[1].BounceClassification);
        Assert.Equal(new EventResponse(451, "4.2.2", "mailbox full"), first.Events[1].Response);
        Assert.All(first.Events, e => Assert.Equal(1, e.Attempt));
        Assert.All(first.Events, e => Assert.Equal("alice", e.Credential));

        // The second attempt has no details (an older node): peer from the outcome's remote MTA; counts go on.
        var second = EventMapper.Map(30, new AttemptCompleted("Q1", Arrived.AddMinutes(6), [
            new RecipientResult("b@example.com", RecipientResultKind.Failed, 550, "5.1.1", "no such user", null),
        ], "mx2.example.com", null), first.Context, new FixedClassifier());
        var bounce = Assert.Single(second.Events);
        Assert.Equal((EventTypes.Bounce, 2, "InvalidRecipient"), (bounce.Type, bounce.Attempt, bounce.BounceClassification));
        Assert.Equal(new EventPeer("mx2.example.com", null), bounce.Peer);
        Assert.Null(bounce.Tls);
        Assert.Null(bounce.Node);
    }

    [Fact]
    public void Expiry_and_an_operators_bounce_have_their_own_types()
    {
        var ctx = Received();
        var expired = EventMapper.Map(40, new AttemptCompleted("Q1", Arrived, [
            new RecipientResult("a@example.com", RecipientResultKind.Expired, 421, "4.4.2", "timeout", null),
        ], null, null), ctx, null);
        Assert.Equal(EventTypes.Expiration, Assert.Single(expired.Events).Type);

        var admin = EventMapper.Map(41, new AttemptCompleted("Q1", Arrived, [
            new RecipientResult("b@example.com", RecipientResultKind.Failed, 0, DomainQueueState.BouncedStatus, DomainQueueState.BouncedText, null),
        ], null, null), expired.Context, null);
        var e = Assert.Single(admin.Events);
        Assert.Equal((EventTypes.AdminBounce, 0), (e.Type, e.Attempt));
    }

    [Fact]
    public void Older_journals_without_details_still_give_events()
    {
        var e = Assert.Single(EventMapper.Map(5, new Enqueued("example.com", "Q9", "", ["x@example.com"], Arrived), null, null).Events);
        Assert.Equal((EventTypes.Reception, "Q9", "", (string?)null, (long?)null), (e.Type, e.QueueId, e.Sender, e.MessageId, e.Size));
    }

    [Fact]
    public void The_record_has_exactly_the_issues_field_names()
    {
        var e = Assert.Single(EventMapper.Map(5, new Enqueued("example.com", "Q9", "s@example.org", ["x@example.com"], Arrived), null, null).Events);
        using var json = JsonDocument.Parse(e.ToJson());
        Assert.Equal(
            ["event_id", "type", "queue_id", "message_id", "sender", "recipient", "domain", "size", "response", "peer", "attempt", "timestamp", "created", "tls", "bounce_classification", "node", "credential", "meta"],
            json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["code", "enhanced_code", "text"], json.RootElement.GetProperty("response").EnumerateObject().Select(p => p.Name));
        Assert.Equal(e, DeliveryEvent.FromJson(e.ToJson())! with { Meta = e.Meta });
        Assert.Equal("{\"offset\":7,\"event_id\"", new StoredEvent(7, e.Type, e.ToJson()).WithOffset()[..22]);
    }

    [Fact]
    public void Annotation_puts_the_details_inside_the_event_they_describe()
    {
        var enqueue = new Enqueue(new Queue.QueueKey("example.com", null), "Q1", "s@x", ["a@example.com"], Arrived) { Details = Reception };
        var enqueued = new Enqueued("example.com", "Q1", "s@x", ["a@example.com"], Arrived);
        var attempt = new AttemptCompleted("Q2", Arrived, [], "mx", "TLSv1.3");
        var result = new DeliveryResult([], "mx", "TLSv1.3") { Relay = "mx.example.com[127.0.0.2]:25", TlsCipher = "C" };
        var flushed = new QueueFlushed(Arrived);

        var events = EventAnnotation.Annotate([flushed, enqueued, attempt], [(enqueue, 0)], [("Q2", result, Arrived)], "n1");

        Assert.Equal([typeof(QueueFlushed), typeof(Enqueued), typeof(AttemptCompleted)], events.Select(e => e.GetType()));
        var details = Assert.IsType<AttemptCompleted>(events[2]).Details!;
        Assert.Equal(("mx.example.com", "127.0.0.2:25", "C", "n1"), (details.PeerName, details.PeerAddress, details.TlsCipher, details.Node));
        Assert.Equal("node-a:4053", Assert.IsType<Enqueued>(events[1]).Details!.Node);
        Assert.Same(flushed, events[0]);
        Assert.Same(events, EventAnnotation.Annotate(events, Array.Empty<(Enqueue, int)>(), [], "n1"));
    }

    [Fact]
    public void Details_inside_the_event_map_exactly_as_the_details_rows_of_the_previous_release()
    {
        var enqueued = new Enqueued("example.com", "Q1", "alice@example.org", ["a@example.com", "b@example.com"], Arrived);
        var hop = new AttemptDetails("Q1", Arrived, "mx1.example.com", "127.0.0.2:25", "TLSv1.2", "C", "node-b:4053");
        var attempt = new AttemptCompleted("Q1", Arrived.AddMinutes(1), [
            new RecipientResult("a@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null),
            new RecipientResult("b@example.com", RecipientResultKind.Failed, 550, "5.1.1", "unknown", null, "failed"),
        ], "mx1.example.com", "TLSv1.2");

        // The previous release: a details row just before each event (orderings 10, 20), the events at 11 and 21.
        var rowCtx = EventMapper.Map(10, Reception, null, null).Context;
        var rowReception = EventMapper.Map(11, enqueued, rowCtx, null);
        var rowHop = EventMapper.Map(20, hop, rowReception.Context, null).Context;
        var rowAttempt = EventMapper.Map(21, attempt, rowHop, new FixedClassifier());

        // This release: the details inside the events, one row each.
        var inReception = EventMapper.Map(11, enqueued with { Details = Reception }, null, null);
        var inAttempt = EventMapper.Map(21, attempt with { Details = hop }, inReception.Context, new FixedClassifier());

        Assert.Equal(Json(rowReception.Events), Json(inReception.Events));
        Assert.Equal(Json(rowAttempt.Events), Json(inAttempt.Events));
        Assert.Equal(rowAttempt.Context!.ToJson(), inAttempt.Context!.ToJson());
        Assert.Equal(new EventPeer("mx1.example.com", "127.0.0.2:25"), inAttempt.Events[0].Peer);
        Assert.Equal("<m1@example.org>", inAttempt.Events[1].MessageId);
    }

    private static string[] Json(IEnumerable<DeliveryEvent> events) => [.. events.Select(e => e.ToJson())];

    [Theory]
    [InlineData("mx.example.com[192.0.2.1]:25", "mx.example.com", "192.0.2.1:25")]
    [InlineData("[::1]:2525", null, "::1:2525")]
    [InlineData("mx.example.com", "mx.example.com", null)]
    public void Relays_split_into_name_and_address(string relay, string? name, string? address) =>
        Assert.Equal((name, address), EventAnnotation.SplitRelay(relay));
}
