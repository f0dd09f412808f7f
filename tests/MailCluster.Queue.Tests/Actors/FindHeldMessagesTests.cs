using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using Xunit;

namespace MailCluster.Queue.Tests.Actors;

/// <summary>
/// The orphan sweep's question to a domain queue, asked as the sweep asks it: through a real shard region (one-node
/// cluster) whose extractor splits a hot domain into buckets. The answer comes from the queue's state, and mail the
/// queue has received but not yet written counts as held.
/// </summary>
public sealed class FindHeldMessagesTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly ActorSystem _system = ActorSystem.Create("find-held", ConfigurationFactory.ParseString(QueueTestServices.Config(typeof(GatedJournal).AssemblyQualifiedName!) + "\n" + """
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        """));

    private IActorRef _region = null!;

    public async ValueTask InitializeAsync()
    {
        var cluster = Cluster.Get(_system);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(cluster.SelfAddress);
        await up.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var services = QueueTestServices.Create();
        var sharding = ClusterSharding.Get(_system);
        var settings = ClusterShardingSettings.Create(_system);
        _region = await sharding.StartAsync(
            "domain-queue",
            domain => DomainQueueEntity.Props(domain, services),
            settings,
            new DomainQueueMessageExtractor(10),
            sharding.DefaultShardAllocationStrategy(settings),
            DomainQueueEntity.StopMessage);
    }

    public async ValueTask DisposeAsync()
    {
        JournalGate.Of(_system).Open();
        await _system.Terminate();
    }

    [Fact]
    public async Task A_queue_answers_which_of_the_ids_it_holds()
    {
        await EnqueueAsync("plain.test", "M1");
        await EnqueueAsync("plain.test", "M2");

        Assert.Equal(["M1", "M2"], await HeldAsync("plain.test", "M1", "M2", "GONE"));

        Assert.Equal(MessageAdminOutcome.Done, (await _region.Ask<MessageAdminAck>(new DeleteMessage("plain.test", "M1"), Timeout)).Outcome);
        Assert.Equal(["M2"], await HeldAsync("plain.test", "M1", "M2"));
        Assert.Empty(await HeldAsync("never-used.test", "M2")); // a queue started only to answer holds nothing
    }

    [Fact]
    public async Task Each_bucket_of_a_split_domain_answers_for_itself()
    {
        var entity = new DomainBuckets(new Dictionary<string, int> { ["hot.test"] = 2 }).KeyFor("hot.test", "H1").EntityId;
        await EnqueueAsync(entity, "H1");

        foreach (var asked in new[] { "hot.test", "hot.test#0", "hot.test#1" })
        {
            var answer = await _region.Ask<HeldMessages>(new FindHeldMessages(asked, ["H1"]), Timeout);
            Assert.Equal(asked, answer.Domain);
            Assert.Equal(asked == entity ? ["H1"] : [], answer.MessageIds);
        }
    }

    [Fact]
    public async Task Mail_being_written_counts_as_held()
    {
        await EnqueueAsync("slow.test", "S1"); // the queue is running
        var gate = JournalGate.Of(_system);
        gate.Close();
        var ack = _region.Ask<EnqueueAck>(new Enqueue("slow.test", "S2", "s@sender.test", ["b@slow.test"], DateTimeOffset.UtcNow), Timeout);
        await gate.WriteWaiting.WaitAsync(Timeout); // S2 is in the journal write
        var third = _region.Ask<EnqueueAck>(new Enqueue("slow.test", "S3", "s@sender.test", ["c@slow.test"], DateTimeOffset.UtcNow), Timeout);

        // S3 waits in the queue's buffer for the next write (it reaches the queue before the question, on the same path).
        Assert.Equal(["S1", "S2", "S3"], await HeldAsync("slow.test", "S1", "S2", "S3", "S4"));
        Assert.False(ack.IsCompleted || third.IsCompleted);

        gate.Open();
        await ack;
        await third;
        Assert.Equal(["S1", "S2", "S3"], await HeldAsync("slow.test", "S1", "S2", "S3", "S4"));
    }

    private Task<EnqueueAck> EnqueueAsync(string domain, string id) =>
        _region.Ask<EnqueueAck>(new Enqueue(domain, id, "s@sender.test", [$"a@{domain}"], DateTimeOffset.UtcNow), Timeout);

    private async Task<IReadOnlyList<string>> HeldAsync(string entity, params string[] ids)
    {
        var answer = await _region.Ask<HeldMessages>(new FindHeldMessages(entity, ids), Timeout);
        Assert.Equal(entity, answer.Domain);
        return [.. answer.MessageIds.Order(StringComparer.Ordinal)];
    }
}
