using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using MailCluster.Queue.Protocol;
using Xunit;

namespace MailCluster.Queue.Tests.Actors;

/// <summary>
/// A shard hand-off (rebalance, node leaving) that starts while an Enqueue is being written must not cut the write
/// off: the queue persists it, acknowledges it (so the session answers 250, not a needless 451) and only then stops.
/// A real one-node cluster and shard region, the entity props and hand-off stop message the node uses, and a journal
/// whose writes take 1.5 s; the region's graceful shutdown hands its shards off while the write is in flight.
/// </summary>
public sealed class HandOffTests : IAsyncLifetime
{
    private const string Domain = "handoff.test";
    private readonly ActorSystem _system = ActorSystem.Create("handoff", ConfigurationFactory.ParseString(QueueTestServices.Config(typeof(SlowJournal).AssemblyQualifiedName!) + "\n" + """
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        akka.cluster.sharding.handoff-timeout = 20s
        """));

    public async ValueTask InitializeAsync()
    {
        var cluster = Cluster.Get(_system);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(cluster.SelfAddress);
        await up.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    public async ValueTask DisposeAsync()
    {
        SlowJournal.WriteDelay = TimeSpan.Zero;
        await _system.Terminate();
    }

    [Fact]
    public async Task Enqueue_written_during_hand_off_is_acknowledged_and_persisted()
    {
        var services = QueueTestServices.Create();
        var sharding = ClusterSharding.Get(_system);
        var settings = ClusterShardingSettings.Create(_system);
        var region = await sharding.StartAsync(
            "domain-queue",
            domain => DomainQueueEntity.Props(domain, services),
            settings,
            new DomainQueueMessageExtractor(10),
            sharding.DefaultShardAllocationStrategy(settings),
            DomainQueueEntity.StopMessage);
        Assert.Equal(0, (await region.Ask<QueueStatus>(new GetQueueStatus(Domain), TimeSpan.FromSeconds(20))).Messages);

        SlowJournal.WriteDelay = TimeSpan.FromMilliseconds(1500);
        var ack = region.Ask<EnqueueAck>(new Enqueue(Domain, "M1", "s@sender.test", ["a@handoff.test"], DateTimeOffset.UtcNow), TimeSpan.FromSeconds(15));
        await Task.Delay(300); // the Enqueued event is being written now
        var regionStopped = region.WatchAsync();
        region.Tell(GracefulShutdown.Instance);

        Assert.Equal(("handoff.test", "M1"), ((await ack).Domain, (await ack).MessageId));
        Assert.True(await regionStopped.WaitAsync(TimeSpan.FromSeconds(20)), "the region did not finish its hand-off");

        // The next owner recovers it from the journal.
        SlowJournal.WriteDelay = TimeSpan.Zero;
        var next = _system.ActorOf(DomainQueueActor.Props(Domain, services), "next-owner");
        Assert.Equal(1, (await next.Ask<QueueStatus>(new GetQueueStatus(Domain), TimeSpan.FromSeconds(10))).Messages);
    }
}
