using Akka.Actor;
using Akka.Configuration;
using MailCluster.Queue.Protocol;
using Xunit;

namespace MailCluster.Queue.Tests.Actors;

/// <summary>
/// Invariant 1 at the journal: an Enqueue is acknowledged only when its event is stored. A journal may reject a write
/// (an event it cannot serialize) rather than fail it; Akka then keeps the actor running and still runs the deferred
/// handler that acknowledges the group commit's Enqueue commands. The queue stops instead (its entity restarts it from
/// the journal), so the session waits, gets no acknowledgement, and answers 451.
/// </summary>
public sealed class PersistRejectionTests : IAsyncDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("rejection", ConfigurationFactory.ParseString(QueueTestServices.Config(typeof(RejectingJournal).AssemblyQualifiedName!)));

    public async ValueTask DisposeAsync() => await _system.Terminate();

    [Fact]
    public async Task A_rejected_Enqueued_is_never_acknowledged_and_the_queue_recovers_without_it()
    {
        const string domain = "reject.test";
        RejectingJournal.Reject("M-rejected");
        var backoff = new RestartBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(30));
        var entity = _system.ActorOf(DomainQueueEntity.Props(domain, QueueTestServices.Create(), backoff), "entity");

        var rejected = entity.Ask<EnqueueAck>(new Enqueue(domain, "M-rejected", "s@sender.test", ["a@reject.test"], DateTimeOffset.UtcNow), TimeSpan.FromSeconds(3));
        await Assert.ThrowsAsync<AskTimeoutException>(() => rejected);

        var ack = await entity.Ask<EnqueueAck>(new Enqueue(domain, "M2", "s@sender.test", ["b@reject.test"], DateTimeOffset.UtcNow), TimeSpan.FromSeconds(10));
        Assert.Equal("M2", ack.MessageId);
        var status = await entity.Ask<QueueStatus>(new GetQueueStatus(domain), TimeSpan.FromSeconds(10));
        Assert.Equal(1, status.Messages);
    }
}
