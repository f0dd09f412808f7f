using System.Collections.Concurrent;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using Xunit;

namespace MailCluster.Queue.Tests.Actors;

/// <summary>
/// Issue 13's bug, over the real actor: a delivery run that throws (here the connector, against its contract) used to
/// be held and retried for ever without counting an attempt, so <c>Retry:MaxAgeSeconds</c> was never honoured. Each
/// throwing run is now a transient attempt (451 4.3.0 with the exception's message); at the maximum age the message
/// expires and the sender gets a "failed" DSN, queued through the same acceptance path as any mail.
/// </summary>
public sealed class ThrowingDeliveryTests : IAsyncDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("throwing", ConfigurationFactory.ParseString(QueueTestServices.Config(typeof(GatedJournal).AssemblyQualifiedName!)));

    public async ValueTask DisposeAsync() => await _system.Terminate();

    [Fact]
    public async Task Run_that_keeps_throwing_expires_at_max_age_into_a_bounce()
    {
        var spool = new BodySpool();
        var dsnEnqueued = new TaskCompletionSource<Enqueue>(TaskCreationOptions.RunContinuationsAsynchronously);
        var region = _system.ActorOf(Props.Create(() => new AckingRegion(dsnEnqueued)), "region");
        var connector = new ThrowingConnector();
        var services = new QueueServices(
            spool,
            connector,
            new RetryPolicy(new RetryOptions { InitialSeconds = 0.2, MaxSeconds = 0.4, MaxAgeSeconds = 3, Jitter = 0 }),
            new QueueOptions(),
            TimeProvider.System,
            () => region,
            "mc.test");
        var queue = _system.ActorOf(DomainQueueActor.Props("broken.test", services), "queue");
        spool.Bodies["M1"] = Encoding.ASCII.GetBytes("Subject: T\r\n\r\nbody\r\n");
        Assert.Equal(0, (await queue.Ask<QueueStatus>(new GetQueueStatus("broken.test"), TimeSpan.FromSeconds(10))).Messages); // recovered: the clock runs from here

        await queue.Ask<EnqueueAck>(new Enqueue("broken.test", "M1", "s@sender.test", ["a@broken.test"], DateTimeOffset.UtcNow), TimeSpan.FromSeconds(10));
        queue.Tell(new MessageCommitted("broken.test", "M1"));

        var dsn = await dsnEnqueued.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(("sender.test", ""), (dsn.Queue.EntityId, dsn.Sender));
        Assert.Equal(["s@sender.test"], dsn.Recipients);
        var report = Encoding.UTF8.GetString(spool.Bodies[dsn.MessageId]);
        Assert.Contains("Action: failed", report, StringComparison.Ordinal);
        Assert.Contains("Status: 4.3.0", report, StringComparison.Ordinal);
        Assert.Contains("connector broken (test)", report, StringComparison.Ordinal);

        // Runs at about 0, 0.2, 0.6, 1.0, 1.4 ... 2.6 s and the last at the 3 s maximum age (fewer on a loaded machine).
        Assert.InRange(connector.Calls, 2, 12);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await queue.Ask<QueueStatus>(new GetQueueStatus("broken.test"), TimeSpan.FromSeconds(5))).Messages > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the expired message stayed queued after its DSN was queued");
            await Task.Delay(50);
        }
    }

    /// <summary>Opens no connection: throws, as a broken connector or route table would.</summary>
    private sealed class ThrowingConnector : IDeliveryConnector
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public Task<ConnectResult> ConnectAsync(string domain, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            throw new InvalidOperationException("connector broken (test)");
        }

        public DomainShaping ShapingFor(string domain) => new(1, 10, null, TimeSpan.FromSeconds(1));
    }

    /// <summary>The domain-queue region as the DSN's acceptance sees it: acknowledges Enqueue, and reports the DSN's.</summary>
    private sealed class AckingRegion : ReceiveActor
    {
        public AckingRegion(TaskCompletionSource<Enqueue> dsn)
        {
            Receive<Enqueue>(e =>
            {
                Sender.Tell(new EnqueueAck(e.Queue.EntityId, e.MessageId));
                if (e.Sender.Length == 0)
                {
                    dsn.TrySetResult(e);
                }
            });
            ReceiveAny(_ => { });
        }
    }

    /// <summary>Bodies in memory, every one committed once written.</summary>
    private sealed class BodySpool : ISpoolStore
    {
        public ConcurrentDictionary<string, byte[]> Bodies { get; } = new(StringComparer.Ordinal);

        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task WriteAsync(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains, CancellationToken cancellationToken)
        {
            Bodies[messageId] = body.ToArray();
            return Task.CompletedTask;
        }

        public Task CommitAsync(string messageId, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<SpoolEntry> ReadAsync(string messageId, CancellationToken cancellationToken) =>
            Task.FromResult(Bodies.TryGetValue(messageId, out var body) ? new SpoolEntry(SpoolStatus.Committed, body) : SpoolEntry.Missing);

        public Task ReleaseAsync(string messageId, string domain, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task DeleteUncommittedAsync(string messageId, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
