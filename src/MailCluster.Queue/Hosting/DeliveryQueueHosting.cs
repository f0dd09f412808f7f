using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using MailCluster.Queue.Acceptance;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Gates;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Serialization;
using MailCluster.Queue.Spool;
using MailCluster.Queue.Sweep;
using MailCluster.Queue.Views;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailCluster.Queue;

/// <summary>
/// The delivery-queue feature (STYLE habit 6). On the services: <see cref="AddMessageAcceptor"/>, the acceptance
/// hand-off every edge uses. On Akka: <see cref="WithDeliveryQueue"/> (the queue messages' serializer and the
/// domain-queue shard region, or its proxy off the delivery role) and <see cref="WithOrphanSweep"/>. Needs from DI:
/// <see cref="ISpoolStore"/> and <see cref="ISpoolInventory"/> (storage), <see cref="IDeliveryConnector"/>
/// (outbound) and <see cref="QueueMetrics"/> (the node's metrics).
/// </summary>
public static class DeliveryQueueHosting
{
    /// <summary>Registers <see cref="IMessageAcceptor"/>: the body write and the Enqueued events side by side, then
    /// the commit (two durable round trips per message), through the region registered as <see cref="DomainQueueRegion"/>.</summary>
    /// <param name="buckets">Hot domains split over several entities: the acceptor chooses a message's bucket once.</param>
    public static IServiceCollection AddMessageAcceptor(this IServiceCollection services, QueueOptions queue, DomainBuckets buckets)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(buckets);
        return services.AddSingleton<IMessageAcceptor>(sp => new MessageAcceptor(
            sp.GetRequiredService<ISpoolStore>(),
            sp.GetRequiredService<IRequiredActor<DomainQueueRegion>>().ActorRef,
            buckets,
            queue,
            TimeProvider.System,
            sp.GetRequiredService<ILogger<MessageAcceptor>>(),
            sp.GetRequiredService<QueueMetrics>(),
            sp.GetService<IAcceptanceFence>())
        {
            Node = NodeName(sp.GetRequiredService<ActorSystem>()),
            RecordsEventDetails = sp.GetService<Contracts.DeliveryEventDetails>() is not null,
        });
    }

    /// <summary>This node as the delivery events name it (issue 16): the cluster (remoting) address's host and port;
    /// <c>local</c> in an actor system without remoting (tests).</summary>
    public static string NodeName(ActorSystem system) =>
        ((ExtendedActorSystem)system).Provider.DefaultAddress is { Host: { } host, Port: { } port } ? $"{host}:{port}" : "local";

    /// <summary>
    /// The queue messages' serializer (stable manifests: its events are the storage format) and the domain-queue
    /// region registered as <see cref="DomainQueueRegion"/>: the entities on delivery nodes, a proxy elsewhere.
    /// </summary>
    public static AkkaConfigurationBuilder WithDeliveryQueue(this AkkaConfigurationBuilder builder, DeliveryQueueSettings settings, IServiceProvider provider)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        builder.WithCustomSerializer("mailcluster-queue", [typeof(IQueueMessage)], system => new QueueSerializer(system));
        var extractor = new DomainQueueMessageExtractor(settings.Queue.Shards);
        if (!settings.RunsQueues)
        {
            return builder.WithShardRegionProxy<DomainQueueRegion>("domain-queue", DeliveryQueueSettings.Role, extractor);
        }

        var registry = new Lazy<IActorRef>(() => ActorRegistry.For(provider.GetRequiredService<ActorSystem>()).Get<DomainQueueRegion>());
        var services = new QueueServices(
            provider.GetRequiredService<ISpoolStore>(),
            // Every queue of a destination domain (each bucket of a split one) shares its connection cap and rate;
            // with the cluster gates, every node's queues share them too.
            new GatedConnector(
                provider.GetRequiredService<IDeliveryConnector>(),
                new DestinationGates(TimeProvider.System),
                settings.Queue.ClusterGates ? Gates.GateHosting.Gates(provider) : null),
            new RetryPolicy(settings.Retry),
            settings.Queue,
            TimeProvider.System,
            () => registry.Value,
            settings.ReportingMta)
        {
            Metrics = provider.GetRequiredService<QueueMetrics>(),
            Buckets = settings.Buckets,
            MailLog = provider.GetRequiredService<ILoggerFactory>().CreateLogger(DeliveryLog.Category),
            Suspensions = provider.GetService<Suspensions.SuspensionSet>() ?? Suspensions.SuspensionSet.None,
            Classification = provider.GetService<Bounces.DeliveryClassification>() ?? Bounces.DeliveryClassification.None,
            RecordsEventDetails = provider.GetService<Contracts.DeliveryEventDetails>() is not null,
        };
        if (settings.Queue.ClusterGates)
        {
            builder.WithDestinationGates(settings.Queue);
        }

        return builder
            .WithShardRegion<DomainQueueRegion>(
                "domain-queue",
                domain => DomainQueueEntity.Props(domain, services),
                extractor,
                new ShardOptions
                {
                    Role = DeliveryQueueSettings.Role,

                    // Queues with pending mail restart after a crash or a rebalance without waiting for new mail.
                    // The event-sourced store (not DData's LightningDB, broken here: PACKAGES.md).
                    RememberEntities = true,
                    RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
                    StateStoreMode = StateStoreMode.DData,

                    // Hand-off stops a queue as passivation does: its journal writes are persisted and acked first.
                    HandOffStopMessage = DomainQueueEntity.StopMessage,
                })

            // Tells the ops API of any node which buckets of a domain run here (also those above the configured count).
            .WithActors((system, _) => system.ActorOf(BucketDirectory.Props(() => registry.Value), BucketDirectory.Name))

            // Answers the cluster-wide queue summary and message inspection for the entities hosted here (issue 14).
            .WithActors((system, _) => system.ActorOf(
                QueueViewDirectory.Props(() => registry.Value, Akka.Cluster.Cluster.Get(system).SelfAddress.ToString()), QueueViewDirectory.Name));
    }

    /// <summary>
    /// The orphan spool sweep as a cluster singleton on the delivery role: one node sweeps at a time (the oldest), and
    /// another takes over when it leaves or dies. Only one at a time to spare the database and the queues the same
    /// questions; not for safety, since a run is idempotent and two overlapping runs (a hand-over, a split brain
    /// before the resolver acts) release nothing a queue holds. Nothing on nodes off the delivery role, or when
    /// <c>MailCluster:Queue:OrphanSweep:Enabled</c> is false.
    /// </summary>
    public static AkkaConfigurationBuilder WithOrphanSweep(this AkkaConfigurationBuilder builder, DeliveryQueueSettings settings, IServiceProvider provider)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        var options = settings.Queue.OrphanSweep;
        if (!settings.RunsQueues || !options.Enabled)
        {
            return builder;
        }

        var timeout = TimeSpan.FromSeconds(options.AskTimeoutSeconds);
        return builder.WithSingleton<SpoolSweep>(
            "spool-sweep",
            (system, registry, _) =>
            {
                var region = registry.Get<DomainQueueRegion>();

                // Every entity that may hold a domain's mail, leftover buckets above a lowered count included.
                var entities = new QueueEntities(system, region, settings.Buckets);
                var sweep = new OrphanSweep(
                    provider.GetRequiredService<ISpoolInventory>(),
                    provider.GetRequiredService<ISpoolStore>(),
                    (question, ct) => region.Ask<HeldMessages>(question, timeout, ct),
                    entities.OfAsync,
                    options,
                    provider.GetRequiredService<QueueMetrics>(),
                    provider.GetRequiredService<ILoggerFactory>().CreateLogger<OrphanSweep>());
                return OrphanSweepActor.Props(sweep, options);
            },
            new ClusterSingletonOptions { Role = DeliveryQueueSettings.Role },
            createProxyToo: false);
    }
}
