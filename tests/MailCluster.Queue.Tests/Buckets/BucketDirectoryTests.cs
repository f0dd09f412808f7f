using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Tests.Actors;
using Xunit;

namespace MailCluster.Queue.Tests.Buckets;

/// <summary>
/// The bucket directory finds every bucket entity of a domain that runs on its node, whatever the configured count:
/// buckets left above a lowered count still hold mail and must stay visible to queue administration.
/// </summary>
public sealed class BucketDirectoryTests : IAsyncLifetime
{
    private readonly ActorSystem _system = ActorSystem.Create("buckets", ConfigurationFactory.ParseString(OneNodeCluster.Config(typeof(GatedJournal).AssemblyQualifiedName!)));

    public async ValueTask InitializeAsync() => await OneNodeCluster.JoinSelfAsync(_system);

    public async ValueTask DisposeAsync() => await _system.Terminate();

    [Theory]
    [InlineData("hot.test#0", "hot.test", 0)]
    [InlineData("hot.test#17", "hot.test", 17)]
    [InlineData("hot.test", "hot.test", null)]
    [InlineData("hot.test#", "hot.test", null)]
    [InlineData("hot.test#x1", "hot.test", null)]
    [InlineData("hot.test#-1", "hot.test", null)]
    [InlineData("hot.test#1234567890", "hot.test", null)]
    [InlineData("sub.hot.test#1", "hot.test", null)]
    [InlineData("hot.test.org#1", "hot.test", null)]
    [InlineData("hot.tes#1", "hot.test", null)]
    public void Bucket_number_of_an_entity_id(string entityId, string domain, int? expected)
    {
        var key = QueueKey.Parse(entityId);
        Assert.Equal(expected, key.Domain == domain ? key.Bucket : null);
    }

    [Fact]
    public void Found_keeps_the_domains_buckets_in_order_and_says_when_a_shard_did_not_answer()
    {
        var state = new CurrentShardRegionState(
            ImmutableHashSet.Create(
                new ShardState("1", ImmutableHashSet.Create("hot.test#7", "other.test#2", "hot.test")),
                new ShardState("2", ImmutableHashSet.Create("hot.test#0", "hot.test#5", "hot.test.example#3"))),
            ImmutableHashSet<string>.Empty);
        var found = BucketDirectory.Found("hot.test", state);
        Assert.Equal([0, 5, 7], found.Buckets);
        Assert.True(found.Complete);

        var partial = BucketDirectory.Found("hot.test", new CurrentShardRegionState(state.Shards, ImmutableHashSet.Create("3")));
        Assert.False(partial.Complete);
    }

    [Fact]
    public void Found_is_bounded()
    {
        var ids = Enumerable.Range(0, BucketDirectory.MaxBuckets + 10).Select(k => $"hot.test#{k}").ToImmutableHashSet();
        var found = BucketDirectory.Found("hot.test", new CurrentShardRegionState(ImmutableHashSet.Create(new ShardState("1", ids)), ImmutableHashSet<string>.Empty));
        Assert.Equal(BucketDirectory.MaxBuckets, found.Buckets.Count);
        Assert.False(found.Complete);
    }

    [Fact]
    public async Task Directory_lists_the_running_buckets_of_a_domain_from_the_shard_region()
    {
        var region = await OneNodeCluster.StartDomainQueuesAsync(_system, QueueTestServices.Create());

        // Queues holding mail keep running (deliveries wait for the commit nudge, which never comes here).
        foreach (var entity in new[] { "hot.test#6", "hot.test#1", "hot.test", "cold.test#2" })
        {
            await region.Ask<EnqueueAck>(new Enqueue(entity, "M-" + entity, "s@sender.test", ["a@" + QueueKey.Parse(entity).Domain], DateTimeOffset.UtcNow), TimeSpan.FromSeconds(10));
        }

        var directory = _system.ActorOf(BucketDirectory.Props(() => region), BucketDirectory.Name);
        var found = await directory.Ask<BucketsFound>(new FindBuckets("hot.test"), TimeSpan.FromSeconds(10));
        Assert.Equal("hot.test", found.Domain);
        Assert.Equal([1, 6], found.Buckets);
        Assert.True(found.Complete);
        Assert.Empty((await directory.Ask<BucketsFound>(new FindBuckets("none.test"), TimeSpan.FromSeconds(10))).Buckets);
    }
}
