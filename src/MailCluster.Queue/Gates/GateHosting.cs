using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;

namespace MailCluster.Queue.Gates;

/// <summary>Registry key of the destination-gate shard region.</summary>
public sealed class DestinationGateRegion;

/// <summary>Registry key of this node's <see cref="GateClientActor"/>.</summary>
public sealed class DestinationGateClient;

/// <summary>
/// The cluster-wide destination gates (issue 19), started with the domain queues on delivery nodes when
/// <c>MailCluster:Queue:ClusterGates</c> is on: the gate messages' serializer, the <c>destination-gate</c> region
/// (its own, volatile: no remember-entities, nothing persisted) and this node's client actor.
/// On a single node every gate is local, so a lease is an in-process message, not a network round trip.
/// </summary>
public static class GateHosting
{
    /// <summary>This node's side of the gates, for the connector; usable once the actor system has started.</summary>
    public static ClusterGates Gates(IServiceProvider provider)
    {
        var system = new Lazy<ActorSystem>(() => (ActorSystem)provider.GetService(typeof(ActorSystem))!);
        return new ClusterGates(
            () => ActorRegistry.For(system.Value).Get<DestinationGateClient>(),
            () => ActorRegistry.For(system.Value).Get<DestinationGateRegion>(),
            TimeProvider.System);
    }

    public static AkkaConfigurationBuilder WithDestinationGates(this AkkaConfigurationBuilder builder, QueueOptions queue)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(queue);
        var timings = new GateTimings(TimeSpan.FromSeconds(queue.GateLeaseTtlSeconds));
        return builder
            .WithCustomSerializer("mailcluster-gates", [typeof(IGateMessage)], system => new GateSerializer(system))
            .WithShardRegion<DestinationGateRegion>(
                "destination-gate",
                domain => DestinationGateEntity.Props(domain, timings, TimeProvider.System),
                new GateMessageExtractor(queue.Shards),
                new ShardOptions
                {
                    Role = DeliveryQueueSettings.Role,
                    RememberEntities = false,
                    StateStoreMode = StateStoreMode.DData,
                })
            .WithActors((system, registry) => registry.Register<DestinationGateClient>(system.ActorOf(
                GateClientActor.Props(
                    () => registry.Get<DestinationGateRegion>(),
                    GateNode.Of(Akka.Cluster.Cluster.Get(system).SelfUniqueAddress),
                    timings,
                    TimeProvider.System),
                GateClientActor.Name)));
    }
}
