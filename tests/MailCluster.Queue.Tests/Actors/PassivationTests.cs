using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using MailCluster.Queue.Protocol;
using Xunit;

namespace MailCluster.Queue.Tests.Actors;

/// <summary>
/// A queue that ran empty asks its shard to passivate; mail that reaches it before the shard's stop message is
/// persisted and acknowledged, and then the queue must not simply vanish (remember-entities would forget it, and the
/// mail would wait for the next message to the domain): it wakes itself through the region. A stand-in for the shard
/// holds the stop message back so that the race happens every time.
/// </summary>
public sealed class PassivationTests : IAsyncDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("passivation", ConfigurationFactory.ParseString(QueueTestServices.Config(typeof(GatedJournal).AssemblyQualifiedName!)));

    public async ValueTask DisposeAsync() => await _system.Terminate();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Queue_that_got_mail_while_passivating_wakes_itself(bool mailDuringPassivation)
    {
        const string domain = "race.test";
        var wakeUps = new TaskCompletionSource<WakeUp>(TaskCreationOptions.RunContinuationsAsynchronously);
        var region = _system.ActorOf(Props.Create(() => new Recorder(wakeUps)), "region");
        var passivated = new TaskCompletionSource<Passivate>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shard = _system.ActorOf(Props.Create(() => new HoldingShard(domain, QueueTestServices.Create(region), passivated)), "shard");
        var entity = await shard.Ask<IActorRef>("entity", TimeSpan.FromSeconds(5));

        await entity.Ask<EnqueueAck>(new Enqueue(domain, "M1", "s@sender.test", ["a@race.test"], DateTimeOffset.UtcNow), TimeSpan.FromSeconds(10));
        Assert.Equal(MessageAdminOutcome.Done, (await entity.Ask<MessageAdminAck>(new DeleteMessage(domain, "M1"), TimeSpan.FromSeconds(10))).Outcome);
        Assert.Same(DomainQueueEntity.StopMessage, (await passivated.Task.WaitAsync(TimeSpan.FromSeconds(10))).StopMessage);

        if (mailDuringPassivation)
        {
            await entity.Ask<EnqueueAck>(new Enqueue(domain, "M2", "s@sender.test", ["b@race.test"], DateTimeOffset.UtcNow), TimeSpan.FromSeconds(10));
        }

        var stopped = entity.WatchAsync();
        shard.Tell("stop");
        Assert.True(await stopped.WaitAsync(TimeSpan.FromSeconds(15)));
        var woken = await Task.WhenAny(wakeUps.Task, Task.Delay(TimeSpan.FromMilliseconds(mailDuringPassivation ? 5000 : 500)));
        Assert.Equal(mailDuringPassivation, woken == wakeUps.Task);
        if (mailDuringPassivation)
        {
            Assert.Equal(domain, (await wakeUps.Task).Queue.EntityId);
        }
    }

    /// <summary>An operator's listing of a domain with no mail starts its queue only to answer: it passivates again.</summary>
    [Fact]
    public async Task Queue_started_only_to_list_passivates_again()
    {
        var passivated = new TaskCompletionSource<Passivate>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shard = _system.ActorOf(Props.Create(() => new HoldingShard("empty.test", QueueTestServices.Create(null), passivated)), "shard");
        var entity = await shard.Ask<IActorRef>("entity", TimeSpan.FromSeconds(5));

        var listing = await entity.Ask<QueueListing>(new ListMessages("empty.test", 0, 100), TimeSpan.FromSeconds(10));

        Assert.Equal((0, null), (listing.Total, listing.NextOffset));
        Assert.Same(DomainQueueEntity.StopMessage, (await passivated.Task.WaitAsync(TimeSpan.FromSeconds(10))).StopMessage);
    }

    /// <summary>A shard restarts a remembered queue with no command for it (after a hand-off, or a crash): one that was
    /// handed off while it waited empty for its idle connections recovers empty, and must passivate by itself after
    /// the destination's idle timeout (1 s here) instead of staying up for good.</summary>
    [Fact]
    public async Task Queue_started_with_nothing_to_do_passivates_after_the_idle_timeout()
    {
        var passivated = new TaskCompletionSource<Passivate>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = DateTime.UtcNow;
        _system.ActorOf(Props.Create(() => new HoldingShard("remembered.test", QueueTestServices.Create(null), passivated)), "shard");

        Assert.Same(DomainQueueEntity.StopMessage, (await passivated.Task.WaitAsync(TimeSpan.FromSeconds(10))).StopMessage);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(0.9), "not before the idle timeout: a command may be waiting for the recovery");
    }

    /// <summary>The shard's part: hosts the entity, and sends the stop message only when told to.</summary>
    private sealed class HoldingShard : ReceiveActor
    {
        public HoldingShard(string domain, QueueServices services, TaskCompletionSource<Passivate> passivated)
        {
            var entity = Context.ActorOf(DomainQueueEntity.Props(domain, services), domain);
            Receive<string>(s => s == "entity", _ => Sender.Tell(entity));
            Receive<Passivate>(p => passivated.TrySetResult(p));
            Receive<string>(s => s == "stop", _ => entity.Tell(DomainQueueEntity.StopMessage));
        }
    }

    private sealed class Recorder : ReceiveActor
    {
        public Recorder(TaskCompletionSource<WakeUp> received) => Receive<WakeUp>(w => received.TrySetResult(w));
    }
}
