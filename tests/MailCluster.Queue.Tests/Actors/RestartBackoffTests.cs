using Akka.Actor;
using Akka.Configuration;
using MailCluster.Queue.Protocol;
using Xunit;

namespace MailCluster.Queue.Tests.Actors;

public sealed class RestartBackoffTests : IAsyncDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("restart", ConfigurationFactory.ParseString(QueueTestServices.Config(typeof(FailingJournal).AssemblyQualifiedName!)));

    public async ValueTask DisposeAsync() => await _system.Terminate();

    [Fact]
    public void Default_schedule_doubles_from_2s_to_a_60s_cap_and_resets_after_a_healthy_minute()
    {
        var b = RestartBackoff.Default;
        Assert.Equal([2, 4, 8, 16, 32, 60, 60], Enumerable.Range(1, 7).Select(n => b.DelayAfter(n).TotalSeconds));
        Assert.Equal(60, b.DelayAfter(1000).TotalSeconds);
        Assert.Equal(4, b.FailuresAfter(3, TimeSpan.FromSeconds(59)));
        Assert.Equal(1, b.FailuresAfter(3, TimeSpan.FromSeconds(60)));
    }

    /// <summary>The queue's recovery fails four times (database down): it is tried again after 100, 200, 400 and 400 ms
    /// (cap), then recovers and works.</summary>
    [Fact]
    public async Task Queue_whose_recovery_fails_restarts_with_growing_backoff_then_serves()
    {
        const string domain = "restart.test";
        FailingJournal.FailRecoveries("dq-" + domain, 4);
        var backoff = new RestartBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(30));

        var entity = _system.ActorOf(DomainQueueEntity.Props(domain, QueueTestServices.Create(), backoff), "entity");

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (FailingJournal.RecoveryTries("dq-" + domain).Count < 5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var tries = FailingJournal.RecoveryTries("dq-" + domain);
        Assert.Equal(5, tries.Count);
        var gaps = tries.Zip(tries.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToList();
        double[] expected = [100, 200, 400, 400];
        for (int i = 0; i < gaps.Count; i++)
        {
            Assert.InRange(gaps[i], expected[i] * 0.9, expected[i] + 1000);
        }

        Assert.True(gaps[2] > gaps[0] + 150, $"gaps did not grow: {string.Join(", ", gaps.Select(g => $"{g:0}ms"))}");
        var ack = await entity.Ask<EnqueueAck>(new Enqueue(domain, "M1", "s@sender.test", ["a@restart.test"], DateTimeOffset.UtcNow), TimeSpan.FromSeconds(10));
        Assert.Equal("M1", ack.MessageId);
    }

    /// <summary>After four failures the next restart is 1.6 s away, but a command that arrives meanwhile (a session
    /// waiting for its 250) restarts the queue at once, and is served by it.</summary>
    [Fact]
    public async Task Command_for_a_queue_in_backoff_restarts_it_at_once()
    {
        const string domain = "demand.test";
        FailingJournal.FailRecoveries("dq-" + domain, 4);
        var backoff = new RestartBackoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));

        var entity = _system.ActorOf(DomainQueueEntity.Props(domain, QueueTestServices.Create(), backoff), "entity");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (FailingJournal.RecoveryTries("dq-" + domain).Count < 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await Task.Delay(300);
        var ack = await entity.Ask<EnqueueAck>(new Enqueue(domain, "M1", "s@sender.test", ["a@demand.test"], DateTimeOffset.UtcNow), TimeSpan.FromSeconds(10));

        var tries = FailingJournal.RecoveryTries("dq-" + domain);
        Assert.Equal(5, tries.Count);
        Assert.InRange((tries[4] - tries[3]).TotalMilliseconds, 250, 1300);
        Assert.Equal("M1", ack.MessageId);
    }
}
