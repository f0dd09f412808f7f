using Akka.Actor;
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
    private readonly ActorSystem _system = ActorSystem.Create("handoff", ConfigurationFactory.ParseString(
        OneNodeCluster.Config(typeof(SlowJournal).AssemblyQualifiedName!) + "\nakka.cluster.sharding.handoff-timeout = 20s"));

    public async ValueTask InitializeAsync() => await OneNodeCluster.JoinSelfAsync(_system);

    public async ValueTask DisposeAsync()
    {
        SlowJournal.WriteDelay = TimeSpan.Zero;
        await _system.Terminate();
    }

    [Fact]
    public async Task Enqueue_written_during_hand_off_is_acknowledged_and_persisted()
    {
        var services = QueueTestServices.Create();
        var region = await OneNodeCluster.StartDomainQueuesAsync(_system, services);
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
