using Akka.Actor;
using MailCluster.Queue.Acceptance;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace MailCluster.Queue.Tests.Acceptance;

/// <summary>
/// Invariant 1 for the acceptor, in both of its orders (the embedded spool: Enqueued events, then the body written
/// already committed; a spool without that, <see cref="TwoSteps"/>: body write ‖ Enqueued events, then the commit):
/// Accepted only with a committed body and every domain's Enqueue acknowledged; after a failure nothing it wrote is
/// deliverable (the body is never committed and is deleted).
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Accepted_means_committed_and_every_domain_acknowledged(bool twoSteps)
    {
        var seen = new List<Enqueue>();
        var queues = system.ActorOf(Props.Create(() => new FakeQueues(seen, true)));
        var id = MessageIds.New();

        var result = await Acceptor(queues, twoSteps).AcceptAsync(id, "s@x.test", ["a@one.test", "b@two.test", "c@one.test"], null, Body, Ct);

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
    public async Task Written_at_once_the_body_is_stored_only_after_every_domain_acknowledged()
    {
        // The embedded spool writes a small body committed in one transaction: only once every Enqueued is durable.
        Assert.True(((ISpoolStore)spool).WritesCommittedAtOnce(Body.Length));
        var id = MessageIds.New();
        var atAck = new List<SpoolStatus>();
        Action beforeAck = () =>
        {
            lock (atAck)
            {
                atAck.Add(spool.ReadAsync(id, CancellationToken.None).GetAwaiter().GetResult().Status);
            }
        };
        var queues = system.ActorOf(Props.Create(() => new FakeQueues(new List<Enqueue>(), true, beforeAck)));

        var result = await Acceptor(queues).AcceptAsync(id, "s@x.test", ["a@one.test", "b@two.test"], null, Body, Ct);

        Assert.Equal(AcceptOutcome.Accepted, result.Outcome);
        Assert.Equal([SpoolStatus.Missing, SpoolStatus.Missing], atAck);
        Assert.Equal(SpoolStatus.Committed, (await spool.ReadAsync(id, Ct)).Status);
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refused_body_write_fails_and_commits_nothing(bool twoSteps)
    {
        var queues = system.ActorOf(Props.Create(() => new FakeQueues(new List<Enqueue>(), true)));
        var id = MessageIds.New();
        await spool.WriteAsync(id, "other"u8.ToArray(), ["one.test"], Ct); // the id is taken, uncommitted

        var result = await Acceptor(queues, twoSteps).AcceptAsync(id, "s@x.test", ["a@one.test"], null, Body, Ct);

        Assert.Equal(AcceptOutcome.Failed, result.Outcome);
        Assert.NotEqual(SpoolStatus.Committed, (await spool.ReadAsync(id, Ct)).Status);
    }

    [Fact]
    public async Task A_failed_step_answers_without_waiting_for_a_silent_queue()
    {
        // The queue never answers and the enqueue timeout is long: the refused body write alone must decide. (Two steps
        // only: written at once, the body is written after the queue's answer.)
        var queues = system.ActorOf(Props.Create(() => new FakeQueues(new List<Enqueue>(), false)));
        var id = MessageIds.New();
        await spool.WriteAsync(id, "other"u8.ToArray(), ["one.test"], Ct);
        var acceptor = new MessageAcceptor(
            new TwoSteps(spool), queues, DomainBuckets.None, new QueueOptions { EnqueueTimeoutSeconds = 3600 }, TimeProvider.System, NullLogger<MessageAcceptor>.Instance);

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

    [Theory]
    [InlineData(12, AcceptOutcome.Accepted)] // inside the grace (15 s) less the clock margin (2 s)
    [InlineData(13, AcceptOutcome.Failed)]
    public async Task Acknowledgements_that_come_too_late_for_the_commit_grace_fail_before_the_commit(int ackAfterSeconds, AcceptOutcome expected)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var queues = system.ActorOf(Props.Create(() => new FakeQueues(new List<Enqueue>(), true, () => clock.Advance(TimeSpan.FromSeconds(ackAfterSeconds)))));
        var id = MessageIds.New();

        var result = await GraceAcceptor(queues, spool, clock).AcceptAsync(id, "s@x.test", ["a@one.test"], null, Body, Ct);

        Assert.Equal(expected, result.Outcome);
        if (expected == AcceptOutcome.Failed)
        {
            // A queue reading it after the grace finds it missing and abandons it: nothing deliverable was left.
            await WaitUntilAsync(async () => (await spool.ReadAsync(id, Ct)).Status == SpoolStatus.Missing);
        }
    }

    [Fact]
    public async Task A_commit_that_completes_after_the_commit_grace_is_not_answered_250()
    {
        // The queue may have read the body uncommitted after the grace and abandoned it: 451, and the client sends it
        // again (a queue that still holds this copy delivers it: a duplicate at worst, never a loss).
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var queues = system.ActorOf(Props.Create(() => new FakeQueues(new List<Enqueue>(), true)));
        var id = MessageIds.New();
        var stalling = new StallingCommit(spool, () => clock.Advance(TimeSpan.FromSeconds(14)));

        var result = await GraceAcceptor(queues, stalling, clock).AcceptAsync(id, "s@x.test", ["a@one.test"], null, Body, Ct);

        Assert.Equal(AcceptOutcome.Failed, result.Outcome);
        Assert.Equal(SpoolStatus.Committed, (await spool.ReadAsync(id, Ct)).Status);
    }

    [Theory]
    [InlineData(120, 118)] // the default grace: 2 s of margin for the nodes' clocks
    [InlineData(15, 13)]
    [InlineData(2, 1.5)] // a quarter of a short grace
    public void The_commit_deadline_is_the_grace_less_a_clock_margin(int graceSeconds, double deadlineSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(deadlineSeconds), MessageAcceptor.CommitBy(new QueueOptions { CommitGraceSeconds = graceSeconds }));

    private static MessageAcceptor GraceAcceptor(IActorRef queues, ISpoolStore store, TimeProvider clock) =>
        new(store, queues, DomainBuckets.None, new QueueOptions { EnqueueTimeoutSeconds = 10, CommitGraceSeconds = 15 }, clock, NullLogger<MessageAcceptor>.Instance);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100 && !await condition(); i++)
        {
            await Task.Delay(50, Ct);
        }

        Assert.True(await condition());
    }

    private MessageAcceptor Acceptor(IActorRef queues, bool twoSteps = false) =>
        new(twoSteps ? new TwoSteps(spool) : spool, queues, DomainBuckets.None, new QueueOptions { EnqueueTimeoutSeconds = 1 }, TimeProvider.System, NullLogger<MessageAcceptor>.Instance);

    /// <summary>Stands in for the shard region: records each Enqueue and acknowledges it, or stays silent.</summary>
    private sealed class FakeQueues : ReceiveActor
    {
        public FakeQueues(List<Enqueue> seen, bool acknowledge, Action? beforeAck = null)
        {
            Receive<Enqueue>(e =>
            {
                lock (seen)
                {
                    seen.Add(e);
                }

                if (acknowledge)
                {
                    beforeAck?.Invoke();
                    Sender.Tell(new EnqueueAck(e.Queue.EntityId, e.MessageId));
                }
            });
            Receive<MessageCommitted>(_ => { });
        }
    }

    /// <summary>The real spool seen as one that cannot write a body committed at once (the interface's defaults): the
    /// acceptor's other order, as on PostgreSQL.</summary>
    private class TwoSteps(ISpoolStore inner) : ISpoolStore
    {
        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task WriteAsync(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains, CancellationToken cancellationToken) =>
            inner.WriteAsync(messageId, body, domains, cancellationToken);

        public virtual Task CommitAsync(string messageId, CancellationToken cancellationToken) => inner.CommitAsync(messageId, cancellationToken);

        public Task<SpoolEntry> ReadAsync(string messageId, CancellationToken cancellationToken) => inner.ReadAsync(messageId, cancellationToken);

        public Task ReleaseAsync(string messageId, string domain, CancellationToken cancellationToken) => inner.ReleaseAsync(messageId, domain, cancellationToken);

        public Task DeleteUncommittedAsync(string messageId, CancellationToken cancellationToken) => inner.DeleteUncommittedAsync(messageId, cancellationToken);

        public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
    }

    /// <summary>The real spool, whose commit takes (by the fake clock) as long as <c>stall</c> advances it.</summary>
    private sealed class StallingCommit(ISpoolStore inner, Action stall) : TwoSteps(inner)
    {
        public override async Task CommitAsync(string messageId, CancellationToken cancellationToken)
        {
            await base.CommitAsync(messageId, cancellationToken);
            stall();
        }
    }
}
