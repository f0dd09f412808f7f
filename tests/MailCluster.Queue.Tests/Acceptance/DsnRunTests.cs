using Akka.Actor;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Dsn;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Queue.State;
using MailCluster.Queue.Tests.Actors;
using MailCluster.Storage;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.Queue.Tests.Acceptance;

/// <summary>
/// DSNs go through the one acceptor, whose precondition is a fresh id: a try that fails leaves nothing deliverable
/// (its Enqueued event may be durable, its body never committed) and the next try queues the DSN under a new id, in
/// the sender's queue (its bucket, when the sender's domain is split).
/// </summary>
public sealed class DsnRunTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"mc-dsn-{Guid.NewGuid():N}");
    private readonly ActorSystem _system = ActorSystem.Create("dsn-tests");
    private SqliteSpoolStore _spool = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _spool = new SqliteSpoolStore(Path.Combine(_directory, "spool.db"));
        await _spool.InitializeAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _spool.DisposeAsync();
        await _system.Terminate();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_failed_try_leaves_nothing_deliverable_and_the_retry_uses_a_fresh_id()
    {
        var seen = new List<Enqueue>();
        var acknowledge = false;
        var queues = _system.ActorOf(Props.Create(() => new Queues(seen, () => Volatile.Read(ref acknowledge))));
        var services = new QueueServices(
            _spool, QueueTestServices.Create().Connector, new RetryPolicy(new RetryOptions()), new QueueOptions { EnqueueTimeoutSeconds = 1 },
            TimeProvider.System, () => queues, "mc.test")
        {
            Buckets = new DomainBuckets(new Dictionary<string, int> { ["senders.test"] = 4 }),
        };
        var bounced = new QueuedMessage("M1", "alice@senders.test", T0, [])
        {
            Reports = [new DsnReport("bob@example.com", "failed", "5.1.1", 550, "no such user", "mx.example.com", T0)],
        };

        var failed = await DsnRun.Start(services, bounced);
        Volatile.Write(ref acknowledge, true);
        var queued = await DsnRun.Start(services, bounced);

        Assert.True(failed.Retry);
        Assert.Null(failed.DsnMessageId);
        Assert.False(queued.Retry);
        Enqueue first, second;
        lock (seen)
        {
            Assert.Equal(2, seen.Count);
            (first, second) = (seen[0], seen[1]);
        }

        Assert.NotEqual(first.MessageId, second.MessageId);
        Assert.Equal(queued.DsnMessageId, second.MessageId);
        Assert.Equal("", second.Sender); // the null reverse-path: a DSN is never bounced
        Assert.Equal(["alice@senders.test"], second.Recipients);
        Assert.Equal(services.Buckets.KeyFor("senders.test", second.MessageId), second.Queue);
        Assert.Equal(SpoolStatus.Committed, (await _spool.ReadAsync(second.MessageId, Ct)).Status);
        for (var i = 0; i < 100 && (await _spool.ReadAsync(first.MessageId, Ct)).Status != SpoolStatus.Missing; i++)
        {
            await Task.Delay(50, Ct); // the failed try's body is deleted once its steps have settled
        }

        Assert.Equal(SpoolStatus.Missing, (await _spool.ReadAsync(first.MessageId, Ct)).Status);
    }

    /// <summary>Stands in for the shard region: records each Enqueue, and acknowledges it once told to.</summary>
    private sealed class Queues : ReceiveActor
    {
        public Queues(List<Enqueue> seen, Func<bool> acknowledge)
        {
            Receive<Enqueue>(e =>
            {
                lock (seen)
                {
                    seen.Add(e);
                }

                if (acknowledge())
                {
                    Sender.Tell(new EnqueueAck(e.Queue.EntityId, e.MessageId));
                }
            });
            Receive<MessageCommitted>(_ => { });
        }
    }
}
