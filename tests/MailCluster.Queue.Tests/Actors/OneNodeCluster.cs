using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace MailCluster.Queue.Tests.Actors;

/// <summary>A real one-node cluster with the domain-queue shard region the node uses (entity props, extractor,
/// hand-off stop message), over the in-memory test journals.</summary>
public static class OneNodeCluster
{
    public static string Config(string journalClass) => QueueTestServices.Config(journalClass) + "\n" + """
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        """;

    public static async Task JoinSelfAsync(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(cluster.SelfAddress);
        await up.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    public static Task<IActorRef> StartDomainQueuesAsync(ActorSystem system, QueueServices services)
    {
        var sharding = ClusterSharding.Get(system);
        var settings = ClusterShardingSettings.Create(system);
        return sharding.StartAsync(
            "domain-queue",
            domain => DomainQueueEntity.Props(domain, services),
            settings,
            new DomainQueueMessageExtractor(10),
            sharding.DefaultShardAllocationStrategy(settings),
            DomainQueueEntity.StopMessage);
    }
}
