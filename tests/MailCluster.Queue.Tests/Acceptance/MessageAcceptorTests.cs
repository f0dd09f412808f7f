using Akka.Actor;
using MailCluster.Queue.Acceptance;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace MailCluster.Queue.Tests.Acceptance;

/// <summary>
/// Invariant 1 for the acceptor (body write ‖ Enqueued events, then the commit): Accepted only with a committed body and every domain's Enqueue
/// acknowledged; after a failure nothing it wrote is deliverable (the body is never committed and is deleted).
/// </summary>
public sealed class MessageAcceptorTests : IAsyncLifetime
{
    private static readonly byte[] Body = "Subject: t\r\n\r\nhello\r\n"u8.ToArray();
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"mc-accept-{Guid.NewGuid():N}");
    private readonly ActorSystem system = ActorSystem.Create("accept-tests");
    private SqliteSpoolStore spool = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        spool = new SqliteSpoolStore(Path.Combine(directory, "spool.db"));
        await spool.InitializeAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await spool.DisposeAsync();
        await system.Terminate();
        SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Accepted_means_committed_and_every_domain_acknowledged()
    {
        var seen = new List<Enqueue>();
        var queues = system.ActorOf(Props.Create(() => new FakeQueues(seen, true)));
        var id = MessageIds.New();

        var result = await Acceptor(queues).AcceptAsync(id, "s@x.test", ["a@one.test", "b@two.test", "c@one.test"], null, Body, Ct);

        Assert.Equal(AcceptOutcome.Accepted, result.Outcome);
        var entry = await spool.ReadAsync(id, Ct);
        Assert.Equal(SpoolStatus.Committed, entry.Status);
        Assert.Equal(Body, entry.Body.ToArray());
        lock (seen)
        {
            Assert.Equal(["a@one.test", "c@one.test"], seen.Single(e => e.Queue.EntityId == "one.test").Recipients);
            Assert.Equal(["b@two.test"], seen.Single(e => e.Queue.EntityId == "two.test").Recipients);
        }
    }

    [Fact]
    public async Task A_domain_that_never_acknowledges_fails_and_leaves_nothing_deliverable()
    {
        var queues = system.ActorOf(Props.Create(() => new FakeQueues(new List<Enqueue>(), false)));
        var id = MessageIds.New();

        var result = await Acceptor(queues).AcceptAsync(id, "s@x.test", ["a@one.test"], null, Body, Ct);

        Assert.Equal(AcceptOutcome.Failed, result.Outcome);
        await WaitUntilAsync(async () => (await spool.ReadAsync(id, Ct)).Status == SpoolStatus.Missing);
    }

    [Fact]
    public async Task A_refused_body_write_fails_and_commits_nothing()
    {
        var queues = system.ActorOf(Props.Create(() => new FakeQueues(new List<Enqueue>(), true)));
        var id = MessageIds.New();
        await spool.WriteAsync(id, "other"u8.ToArray(), ["one.test"], Ct); // the id is taken, uncommitted

        var result = await Acceptor(queues).AcceptAsync(id, "s@x.test", ["a@one.test"], null, Body, Ct);

        Assert.Equal(AcceptOutcome.Failed, result.Outcome);
        Assert.NotEqual(SpoolStatus.Committed, (await spool.ReadAsync(id, Ct)).Status);
    }

    [Fact]
    public async Task A_failed_step_answers_without_waiting_for_a_silent_queue()
    {
        // The queue never answers and the enqueue timeout is long: the refused body write alone must decide.
        var queues = system.ActorOf(Props.Create(() => new FakeQueues(new List<Enqueue>(), false)));
        var id = MessageIds.New();
        await spool.WriteAsync(id, "other"u8.ToArray(), ["one.test"], Ct);
        var acceptor = new MessageAcceptor(
            spool, queues, DomainBuckets.None, new QueueOptions { EnqueueTimeoutSeconds = 3600 }, TimeProvider.System, NullLogger<MessageAcceptor>.Instance);

        var accept = acceptor.AcceptAsync(id, "s@x.test", ["a@one.test"], null, Body, Ct);
        var finished = await Task.WhenAny(accept, Task.Delay(TimeSpan.FromMinutes(1), Ct));

        Assert.Same(accept, finished);
        Assert.Equal(AcceptOutcome.Failed, (await accept).Outcome);
    }

    [Fact]
    public async Task Acceptance_latency_is_observed_for_accepted_messages_and_failures_are_counted()
    {
        var metrics = new QueueMetrics(Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.NewCustomRegistry()));
        var good = system.ActorOf(Props.Create(() => new FakeQueues(new List<Enqueue>(), true)));
        var silent = system.ActorOf(Props.Create(() => new FakeQueues(new List<Enqueue>(), false)));
        var options = new QueueOptions { EnqueueTimeoutSeconds = 1 };

        var accepted = await new MessageAcceptor(spool, good, DomainBuckets.None, options, TimeProvider.System, NullLogger<MessageAcceptor>.Instance, metrics)
            .AcceptAsync(MessageIds.New(), "s@x.test", ["a@one.test"], null, Body, Ct);
        var failed = await new MessageAcceptor(spool, silent, DomainBuckets.None, options, TimeProvider.System, NullLogger<MessageAcceptor>.Instance, metrics)
            .AcceptAsync(MessageIds.New(), "s@x.test", ["a@one.test"], null, Body, Ct);

        Assert.Equal(AcceptOutcome.Accepted, accepted.Outcome);
        Assert.Equal(AcceptOutcome.Failed, failed.Outcome);
        Assert.Equal(1, metrics.AcceptanceDuration.Count);
        Assert.InRange(metrics.AcceptanceDuration.Sum, 1e-6, 30);
        Assert.Equal(1, metrics.AcceptanceFailures.Value);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100 && !await condition(); i++)
        {
            await Task.Delay(50, Ct);
        }

        Assert.True(await condition());
    }

    private MessageAcceptor Acceptor(IActorRef queues) =>
        new(spool, queues, DomainBuckets.None, new QueueOptions { EnqueueTimeoutSeconds = 1 }, TimeProvider.System, NullLogger<MessageAcceptor>.Instance);

    /// <summary>Stands in for the shard region: records each Enqueue and acknowledges it, or stays silent.</summary>
    private sealed class FakeQueues : ReceiveActor
    {
        public FakeQueues(List<Enqueue> seen, bool acknowledge)
        {
            Receive<Enqueue>(e =>
            {
                lock (seen)
                {
                    seen.Add(e);
                }

                if (acknowledge)
                {
                    Sender.Tell(new EnqueueAck(e.Queue.EntityId, e.MessageId));
                }
            });
            Receive<MessageCommitted>(_ => { });
        }
    }
}
