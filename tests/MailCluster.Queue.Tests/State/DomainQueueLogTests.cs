using Akka.Actor;
using Akka.Event;
using MailCluster.Queue.Protocol;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>The queue's log lines as Akka's logging formats them: every argument in its place (a whole array passed as
/// one argument printed "System.Object[]").</summary>
public class DomainQueueLogTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Notes_are_formatted_with_every_argument_and_the_cause()
    {
        using var system = ActorSystem.Create("domain-queue-log-test");
        var seen = new System.Collections.Concurrent.BlockingCollection<LogEvent>();
        var listener = system.ActorOf(Props.Create(() => new Listener(seen)));
        system.EventStream.Subscribe(listener, typeof(LogEvent));
        var log = Logging.GetLogger(system, "dq-log-test");
        var error = new InvalidOperationException("boom");

        log.Write(DomainQueueLog.Flushed("example.com", 3));
        log.Write(DomainQueueLog.DsnQueued(new DsnQueued("M1", T0, ["a@example.com", "b@example.com"], "D1"), "partly"));
        log.Write(DomainQueueLog.RunFailed(error, "M2", "example.com"));

        var lines = await Task.Run(() => seen.GetConsumingEnumerable().Where(e => e.LogSource.StartsWith("dq-log-test", StringComparison.Ordinal)).Take(3).ToList())
            .WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(
            [
                (LogLevel.InfoLevel, "Queue example.com flushed by the operator: 3 messages due now"),
                (LogLevel.InfoLevel, "DSN for M1 (a@example.com, b@example.com) queued as D1: partly"),
                (LogLevel.WarningLevel, "Delivery run of M2 in example.com failed; counted as a transient attempt"),
            ],
            lines.Select(l => (l.LogLevel(), l.Message.ToString())));
        Assert.Same(error, lines[2].Cause);
    }

    private sealed class Listener : ReceiveActor
    {
        public Listener(System.Collections.Concurrent.BlockingCollection<LogEvent> seen) => Receive<LogEvent>(seen.Add);
    }
}
