using System.Text;
using Akka.Actor;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Serialization;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>Persisted events are a storage format: their manifests and JSON shapes are approved here, and a
/// change to either must be deliberate (a new manifest), never a side effect of a rename.</summary>
public sealed class QueueSerializerTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private readonly ActorSystem _system = ActorSystem.Create("serializer-test");
    private readonly QueueSerializer _serializer;

    public QueueSerializerTests() => _serializer = new QueueSerializer((ExtendedActorSystem)_system);

    public void Dispose() => _system.Dispose();

    public static TheoryData<object, string, string> Approved => new()
    {
        {
            new Enqueued("example.com", "M1", "s@x.test", ["a@example.com"], T0),
            "mc.queue.enqueued.v1",
            """{"domain":"example.com","messageId":"M1","sender":"s@x.test","recipients":["a@example.com"],"arrivedAt":"2026-11-29T12:00:00+00:00"}"""
        },
        {
            new Enqueued("example.com", "M2", "", ["a@example.com"], T0, new DsnEnvelope("HDRS", "env-1", [new DsnRecipient("a@example.com", "FAILURE,DELAY", "rfc822;A@example.com")])),
            "mc.queue.enqueued.v1",
            """{"domain":"example.com","messageId":"M2","sender":"","recipients":["a@example.com"],"arrivedAt":"2026-11-29T12:00:00+00:00","dsn":{"ret":"HDRS","envId":"env-1","recipients":[{"address":"a@example.com","notify":"FAILURE,DELAY","originalRecipient":"rfc822;A@example.com"}]}}"""
        },
        {
            new AttemptCompleted("M1", T0, [new RecipientResult("a@example.com", RecipientResultKind.Deferred, 451, "4.3.0", "later", T0.AddMinutes(5))], "mx", "TLSv1.3"),
            "mc.queue.attempt-completed.v1",
            """{"messageId":"M1","at":"2026-11-29T12:00:00+00:00","results":[{"recipient":"a@example.com","kind":1,"code":451,"enhancedCode":"4.3.0","text":"later","nextAttemptAt":"2026-11-29T12:05:00+00:00"}],"remoteMta":"mx","tlsProtocol":"TLSv1.3"}"""
        },
        {
            new MessageAbandoned("M1", T0, "never committed"),
            "mc.queue.abandoned.v1",
            """{"messageId":"M1","at":"2026-11-29T12:00:00+00:00","reason":"never committed"}"""
        },
        {
            new DomainQueueSnapshot("example.com", [new QueuedMessageSnapshot("M1", "", T0, [new PendingRecipientSnapshot("a@example.com", 2, T0, "451 4.3.0 later")])]),
            "mc.queue.snapshot.v1",
            """{"domain":"example.com","messages":[{"messageId":"M1","sender":"","arrivedAt":"2026-11-29T12:00:00+00:00","pending":[{"address":"a@example.com","attempts":2,"nextAttemptAt":"2026-11-29T12:00:00+00:00","lastError":"451 4.3.0 later"}]}]}"""
        },
        {
            new AttemptCompleted("M1", T0, [new RecipientResult("a@example.com", RecipientResultKind.Failed, 550, "5.1.1", "no such user", null, "failed")], "mx", null),
            "mc.queue.attempt-completed.v1",
            """{"messageId":"M1","at":"2026-11-29T12:00:00+00:00","results":[{"recipient":"a@example.com","kind":2,"code":550,"enhancedCode":"5.1.1","text":"no such user","report":"failed"}],"remoteMta":"mx"}"""
        },
        {
            new DsnQueued("M1", T0, ["a@example.com"], "D1"),
            "mc.queue.dsn-queued.v1",
            """{"messageId":"M1","at":"2026-11-29T12:00:00+00:00","recipients":["a@example.com"],"dsnMessageId":"D1"}"""
        },
        {
            new DomainQueueSnapshot("example.com", [new QueuedMessageSnapshot("M1", "s@x.test", T0,
                [new PendingRecipientSnapshot("a@example.com", 1, T0, null, true)],
                new DsnEnvelope("FULL", null, [new DsnRecipient("a@example.com", "DELAY", null)]),
                [new DsnReportSnapshot("a@example.com", "delayed", "4.4.1", 0, "refused", null, T0)])]),
            "mc.queue.snapshot.v1",
            """{"domain":"example.com","messages":[{"messageId":"M1","sender":"s@x.test","arrivedAt":"2026-11-29T12:00:00+00:00","pending":[{"address":"a@example.com","attempts":1,"nextAttemptAt":"2026-11-29T12:00:00+00:00","delayWarned":true}],"dsn":{"ret":"FULL","recipients":[{"address":"a@example.com","notify":"DELAY"}]},"reports":[{"recipient":"a@example.com","action":"delayed","status":"4.4.1","code":0,"text":"refused","at":"2026-11-29T12:00:00+00:00"}]}]}"""
        },
        {
            new QueueFlushed(T0),
            "mc.queue.flushed.v1",
            """{"at":"2026-11-29T12:00:00+00:00"}"""
        },
        {
            new MessageDeleted("M1", T0),
            "mc.queue.deleted.v1",
            """{"messageId":"M1","at":"2026-11-29T12:00:00+00:00"}"""
        },
        {
            new AttemptCompleted("M1", T0, [new RecipientResult("a@example.com", RecipientResultKind.Failed, 0, "5.0.0", "delivery cancelled by the postmaster", null, "failed")], null, null),
            "mc.queue.attempt-completed.v1",
            """{"messageId":"M1","at":"2026-11-29T12:00:00+00:00","results":[{"recipient":"a@example.com","kind":2,"code":0,"enhancedCode":"5.0.0","text":"delivery cancelled by the postmaster","report":"failed"}]}"""
        },
        {
            new MessageOnHold("M1", T0),
            "mc.queue.on-hold.v1",
            """{"messageId":"M1","at":"2026-11-29T12:00:00+00:00"}"""
        },
        {
            new MessageReleased("M1", T0),
            "mc.queue.released-from-hold.v1",
            """{"messageId":"M1","at":"2026-11-29T12:00:00+00:00"}"""
        },
        {
            new DomainQueueSnapshot("example.com", [new QueuedMessageSnapshot("M1", "", T0, [new PendingRecipientSnapshot("a@example.com", 0, T0, null)], OnHoldSince: T0, HeldSeconds: 90)]),
            "mc.queue.snapshot.v1",
            """{"domain":"example.com","messages":[{"messageId":"M1","sender":"","arrivedAt":"2026-11-29T12:00:00+00:00","pending":[{"address":"a@example.com","attempts":0,"nextAttemptAt":"2026-11-29T12:00:00+00:00"}],"onHoldSince":"2026-11-29T12:00:00+00:00","heldSeconds":90}]}"""
        },
        {
            // The delivery events' context (issue 16), persisted beside Enqueued and AttemptCompleted.
            new Events.ReceptionDetails("M1", "<m1@x.test>", 1234, "alice", new Dictionary<string, string> { ["campaign"] = "c7" }, "client.x.test", "127.0.0.9", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "10.0.0.1:4053"),
            "mc.queue.reception-details.v1",
            """{"messageId":"M1","headerMessageId":"\u003Cm1@x.test\u003E","size":1234,"credential":"alice","meta":{"campaign":"c7"},"peerName":"client.x.test","peerAddress":"127.0.0.9","tlsProtocol":"TLSv1.3","tlsCipher":"TLS_AES_256_GCM_SHA384","node":"10.0.0.1:4053"}"""
        },
        {
            new Events.AttemptDetails("M1", T0, "mx.example.com", "127.0.0.2:25", null, null, "10.0.0.2:4053"),
            "mc.queue.attempt-details.v1",
            """{"messageId":"M1","at":"2026-11-29T12:00:00+00:00","peerName":"mx.example.com","peerAddress":"127.0.0.2:25","node":"10.0.0.2:4053"}"""
        },
        {
            // Since the details ride inside the event they describe: the v1 shape plus "details", under .v2.
            new Enqueued("example.com", "M1", "s@x.test", ["a@example.com"], T0)
            {
                Details = new Events.ReceptionDetails("M1", null, 1234, null, null, "client.x.test", "127.0.0.9", null, null, "10.0.0.1:4053"),
            },
            "mc.queue.enqueued.v2",
            """{"domain":"example.com","messageId":"M1","sender":"s@x.test","recipients":["a@example.com"],"arrivedAt":"2026-11-29T12:00:00+00:00","details":{"messageId":"M1","size":1234,"peerName":"client.x.test","peerAddress":"127.0.0.9","node":"10.0.0.1:4053"}}"""
        },
        {
            new AttemptCompleted("M1", T0, [new RecipientResult("a@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null)], "mx", "TLSv1.3")
            {
                Details = new Events.AttemptDetails("M1", T0, "mx.example.com", "127.0.0.2:25", "TLSv1.3", "TLS_AES_128_GCM_SHA256", "10.0.0.2:4053"),
            },
            "mc.queue.attempt-completed.v2",
            """{"messageId":"M1","at":"2026-11-29T12:00:00+00:00","results":[{"recipient":"a@example.com","kind":0,"code":250,"enhancedCode":"2.0.0","text":"ok"}],"remoteMta":"mx","tlsProtocol":"TLSv1.3","details":{"messageId":"M1","at":"2026-11-29T12:00:00+00:00","peerName":"mx.example.com","peerAddress":"127.0.0.2:25","tlsProtocol":"TLSv1.3","tlsCipher":"TLS_AES_128_GCM_SHA256","node":"10.0.0.2:4053"}}"""
        },
    };

    /// <summary>Admin commands and replies cross nodes (not persisted): they must round-trip.</summary>
    public static TheoryData<object> AdminMessages => new()
    {
        new ListMessages("example.com#1", 100, 50),
        new QueueListing("example.com", 1, [new QueuedMessageView("M1", "s@x.test", T0, T0, [new RecipientView("a@example.com", "pending", 1, T0, "451 4.3.0 later")])], null),
        new FlushMessages("example.com"),
        new QueueFlushAck("example.com", 3),
        new DeleteMessage("example.com", "M1"),
        new BounceMessage("example.com", "M1"),
        new MessageAdminAck("example.com", "M1", MessageAdminOutcome.InFlight),
        new WakeUp("example.com#2"),
        new FindBuckets("example.com"),
        new BucketsFound("example.com", [0, 5, 7], Complete: false),
        new FindHeldMessages("example.com#1", ["M1", "M2"]),
        new HeldMessages("example.com#1", ["M2"]),
        new HoldMessage("example.com#1", "M1"),
        new ReleaseMessage("example.com", "M1"),
        new MessageHoldAck("example.com#1", "M1", HoldOutcome.AlreadyOnHold, InFlight: true),
        new QueueStatus("example.com", 3, 4, 1) { OnHold = 2, Suspension = new SuspensionView(T0, "maintenance") },
    };

    /// <summary>The sweep's question and its answer cross nodes that may run different versions during a rolling
    /// upgrade: their manifests and shapes are a wire contract.</summary>
    public static TheoryData<object, string, string> WireShapes => new()
    {
        { new FindHeldMessages("example.com#1", ["M1", "M2"]), "mc.queue.find-held.v1", """{"domain":"example.com#1","messageIds":["M1","M2"]}""" },
        { new HeldMessages("example.com#1", []), "mc.queue.held.v1", """{"domain":"example.com#1","messageIds":[]}""" },
    };

    [Theory]
    [MemberData(nameof(WireShapes))]
    public void Sweep_messages_have_approved_wire_shapes(object value, string manifest, string json)
    {
        Assert.Equal(manifest, _serializer.Manifest(value));
        Assert.Equal(json, Encoding.UTF8.GetString(_serializer.ToBinary(value)));
        Assert.Equal(json, Encoding.UTF8.GetString(_serializer.ToBinary(_serializer.FromBinary(Encoding.UTF8.GetBytes(json), manifest))));
    }

    [Theory]
    [MemberData(nameof(AdminMessages))]
    public void Admin_messages_round_trip(object value)
    {
        var bytes = _serializer.ToBinary(value);
        var back = _serializer.FromBinary(bytes, _serializer.Manifest(value));
        Assert.Equal(value.GetType(), back.GetType());
        Assert.Equal(Encoding.UTF8.GetString(bytes), Encoding.UTF8.GetString(_serializer.ToBinary(back)));
    }

    [Theory]
    [MemberData(nameof(Approved))]
    public void Persisted_shapes_are_approved(object value, string manifest, string json)
    {
        Assert.Equal(manifest, _serializer.Manifest(value));
        Assert.Equal(json, Encoding.UTF8.GetString(_serializer.ToBinary(value)));
        var back = _serializer.FromBinary(Encoding.UTF8.GetBytes(json), manifest);
        Assert.Equal(json, Encoding.UTF8.GetString(_serializer.ToBinary(back)));
    }

    [Fact]
    public void Every_queue_message_type_has_a_unique_manifest()
    {
        var types = typeof(IQueueMessage).Assembly.GetTypes()
            .Where(t => typeof(IQueueMessage).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false });
        Assert.All(types, t => Assert.True(QueueSerializer.Manifests.ContainsKey(t), $"{t.Name} has no manifest"));
        Assert.Equal(QueueSerializer.Manifests.Count, QueueSerializer.Manifests.Values.Distinct().Count());
    }

    [Fact]
    public void Every_manifest_has_a_contract_generated_at_build_time()
    {
        // The serializer's options resolve contracts only from the generated context: a type added to the manifests
        // without its [JsonSerializable] line fails here (NotSupportedException), not on a node's first such message.
        Assert.All(QueueSerializer.Manifests, kv =>
        {
            var back = _serializer.FromBinary("{}"u8.ToArray(), kv.Value);
            Assert.IsType(kv.Key, back);
        });
    }

    [Fact]
    public void Akka_picks_this_serializer_when_bound()
    {
        var config = Akka.Configuration.ConfigurationFactory.ParseString($$"""
            akka.actor.serializers.mc = "{{typeof(QueueSerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings { "{{typeof(IQueueMessage).AssemblyQualifiedName}}" = mc }
            """);
        using var system = ActorSystem.Create("binding-test", config);
        var serializer = system.Serialization.FindSerializerFor(new MessageAbandoned("M", T0, "r"));
        Assert.IsType<QueueSerializer>(serializer);
    }
}
