using System.Text;
using Akka.Actor;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Serialization;
using Xunit;

namespace MailCluster.Queue.Tests.Buckets;

/// <summary>A queue key's text is a storage format (entity ids in remember-entities, persistence ids in the journal):
/// it must format exactly as the bucket-rewritten strings of release 8fbe274 did, and every id must read back.</summary>
public sealed class QueueKeyTests : IDisposable
{
    private static readonly string[] FixtureIds =
        ["01A248E67F877397B9FB1B58B38DE86B", "01A248E680957F54894BF8E8F4766EC4", "01A248E680B778A791D27843709FCC2F", "01A248E680D371EA9FECCBA30467A317"];

    private readonly ActorSystem _system = ActorSystem.Create("queue-key-test");

    public void Dispose() => _system.Dispose();

    [Theory]
    [InlineData("gmail.com", "gmail.com", null)]
    [InlineData("gmail.com#0", "gmail.com", 0)]
    [InlineData("gmail.com#17", "gmail.com", 17)]
    [InlineData("xn--bcher-kva.example#3", "xn--bcher-kva.example", 3)]
    [InlineData("[192.0.2.1]", "[192.0.2.1]", null)]
    [InlineData("a#1#2", "a#1", 2)]
    [InlineData("gmail.com#", "gmail.com#", null)]
    [InlineData("gmail.com#01", "gmail.com#01", null)] // not canonical: formatting (gmail.com, 1) would not give it back
    [InlineData("gmail.com#x1", "gmail.com#x1", null)]
    [InlineData("gmail.com#-1", "gmail.com#-1", null)]
    [InlineData("gmail.com#1234567890", "gmail.com#1234567890", null)]
    [InlineData("#1", "#1", null)]
    [InlineData("", "", null)]
    public void Parses_every_id_and_formats_it_back_byte_for_byte(string entityId, string domain, int? bucket)
    {
        var key = QueueKey.Parse(entityId);

        Assert.Equal((domain, bucket), (key.Domain, key.Bucket));
        Assert.Equal(entityId, key.EntityId);
        Assert.Equal("dq-" + entityId, key.PersistenceId);
    }

    [Fact]
    public void A_split_domains_key_is_the_id_release_8fbe274_routed_to()
    {
        var buckets = new DomainBuckets(new Dictionary<string, int> { ["hot.test"] = 4 });

        // Where release 8fbe274 put these messages (T53's fixture, tests/fixtures/release-8fbe274/sigterm, journal.db).
        Assert.Equal(
            ["hot.test#1", "hot.test#3", "hot.test#2", "hot.test#0"],
            FixtureIds.Select(id => buckets.KeyFor("hot.test", id).EntityId));
        Assert.Equal(new QueueKey("cold.test"), buckets.KeyFor("cold.test", "01A248E67F877397B9FB1B58B38DE86B"));
        Assert.All(Enumerable.Range(0, 200).Select(i => buckets.KeyFor("hot.test", MessageIds.New())), k => Assert.InRange(k.Bucket!.Value, 0, 3));
    }

    [Fact]
    public void Keys_are_equal_by_their_id()
    {
        Assert.Equal(new QueueKey("hot.test", 2), QueueKey.Parse("hot.test#2"));
        Assert.True(new QueueKey("hot.test", 2) == "hot.test#2");
        Assert.NotEqual(new QueueKey("hot.test", 2), new QueueKey("hot.test"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueueKey("hot.test", -1));
    }

    [Fact]
    public void Commands_carry_the_key_as_the_entity_id_they_carried_as_a_string()
    {
        var serializer = new QueueSerializer((ExtendedActorSystem)_system);
        var enqueue = new Enqueue(new QueueKey("hot.test", 2), "M1", "s@x.test", ["a@hot.test"], new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
        const string json = """{"domain":"hot.test#2","messageId":"M1","sender":"s@x.test","recipients":["a@hot.test"],"arrivedAt":"2026-11-29T12:00:00+00:00"}""";

        Assert.Equal("mc.queue.enqueue.v1", serializer.Manifest(enqueue));
        Assert.Equal(json, Encoding.UTF8.GetString(serializer.ToBinary(enqueue)));
        var back = (Enqueue)serializer.FromBinary(Encoding.UTF8.GetBytes(json), "mc.queue.enqueue.v1");
        Assert.Equal(new QueueKey("hot.test", 2), back.Queue);
        Assert.Equal("""{"domain":"plain.test","messageId":"M1"}""", Encoding.UTF8.GetString(serializer.ToBinary(new MessageCommitted("plain.test", "M1"))));
    }

    [Fact]
    public void The_extractor_routes_by_the_key_and_delivers_the_message_unchanged()
    {
        var extractor = new DomainQueueMessageExtractor(100);
        var committed = new MessageCommitted(new QueueKey("hot.test", 3), "M1");

        Assert.Equal("hot.test#3", extractor.EntityId(committed));
        Assert.Same(committed, extractor.EntityMessage(committed));
    }
}
