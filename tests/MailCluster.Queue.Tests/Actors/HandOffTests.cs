using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Event;
using MailCluster.Queue.Protocol;
using Xunit;

namespace MailCluster.Queue.Tests.Actors;

/// <summary>
/// A shard hand-off (rebalance, node leaving) that starts while an Enqueue is being written must not cut the write
/// off: the queue persists it, acknowledges it (so the session answers 250, not a needless 451) and only then stops.
/// A real one-node cluster and shard region, the entity props and hand-off stop message the node uses, and a journal
/// whose writes wait at a gate the test holds closed until the queue has received the hand-off's stop message, so the
/// race happens on every run.
/// </summary>
public sealed class HandOffTests : IAsyncLifetime
{
    private const string Domain = "handoff.test";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly ActorSystem _system = ActorSystem.Create("handoff", ConfigurationFactory.ParseString(
        OneNodeCluster.Config(typeof(GatedJournal).AssemblyQualifiedName!) + "\nakka.cluster.sharding.handoff-timeout = 20s"));

    public async ValueTask InitializeAsync() => await OneNodeCluster.JoinSelfAsync(_system);

    public async ValueTask DisposeAsync()
    {
        JournalGate.Of(_system).Open();
        await _system.Terminate();
    }

    [Fact]
    public async Task Enqueue_written_during_hand_off_is_acknowledged_and_persisted()
    {
        var services = QueueTestServices.Create();
        var region = await OneNodeCluster.StartDomainQueuesAsync(_system, services);
        Assert.Equal(0, (await region.Ask<QueueStatus>(new GetQueueStatus(Domain), Timeout)).Messages);
        var gate = JournalGate.Of(_system);
        var handedOff = LogSeen(_system, "Domain queue " + Domain + " handed off");

        gate.Close();
        var ack = region.Ask<EnqueueAck>(new Enqueue(Domain, "M1", "s@sender.test", ["a@handoff.test"], DateTimeOffset.UtcNow), Timeout);
        await gate.WriteWaiting.WaitAsync(Timeout); // the Enqueued event is being written now
        var regionStopped = region.WatchAsync();
        region.Tell(GracefulShutdown.Instance);
        await handedOff.WaitAsync(Timeout); // the queue holds the stop message with its write in flight
        Assert.False(ack.IsCompleted);
        gate.Open();

        Assert.Equal(("handoff.test", "M1"), ((await ack).Domain, (await ack).MessageId));
        Assert.True(await regionStopped.WaitAsync(Timeout), "the region did not finish its hand-off");

        // The next owner recovers it from the journal.
        var next = _system.ActorOf(DomainQueueActor.Props(Domain, services), "next-owner");
        Assert.Equal(1, (await next.Ask<QueueStatus>(new GetQueueStatus(Domain), Timeout)).Messages);
    }

    /// <summary>Completes when an Info log event of the actor system contains <paramref name="text"/>.</summary>
    private static Task LogSeen(ActorSystem system, string text)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        system.EventStream.Subscribe(system.ActorOf(Props.Create(() => new LogWatch(text, seen))), typeof(Info));
        return seen.Task;
    }

    private sealed class LogWatch : ReceiveActor
    {
        public LogWatch(string text, TaskCompletionSource seen) =>
            Receive<Info>(info => info.Message.ToString()?.Contains(text, StringComparison.Ordinal) ?? false, _ => seen.TrySetResult());
    }
}
