using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using LinqToDB;
using MailCluster.Host.Configuration;
using MailCluster.Queue;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Serialization;
using MailCluster.Queue.Spool;
using MailCluster.Queue.Sweep;

namespace MailCluster.Host.Composition;

/// <summary>The Akka side of a node: remoting, cluster, persistence and the domain-queue shard region.</summary>
public static class AkkaComposition
{
    public const string SystemName = "mailcluster";

    public static IServiceCollection AddMailClusterAkka(this IServiceCollection services, NodeSettings settings)
    {
        services.AddAkka(SystemName, (builder, provider) =>
        {
            // Shutdown is driven by the host alone (SIGTERM → ApplicationStopping): Kestrel drains SMTP sessions
            // first, then Akka.Hosting runs CoordinatedShutdown. Akka's own CLR exit hook would leave the cluster
            // while sessions still need the queue.
            // Failure detection, split-brain resolution and sharding tuning: see ClusterHocon.
            builder.AddHocon(ClusterHocon.For(settings.Cluster), HoconAddMode.Prepend);
            builder
                .ConfigureLoggers(l =>
                {
                    l.ClearLoggers();
                    l.AddLoggerFactory();
                })
                .WithCustomSerializer("mailcluster-queue", [typeof(IQueueMessage)], system => new QueueSerializer(system))
                .WithRemoting(new RemoteOptions { HostName = BindAddress(settings.Cluster.Host), PublicHostName = settings.Cluster.Host, Port = settings.Cluster.Port })
                .WithClustering(new ClusterOptions
                {
                    Roles = settings.Cluster.EffectiveRoles.ToArray(),
                    SeedNodes = settings.Cluster.Seeds.Select(s => $"akka.tcp://{SystemName}@{s}").ToArray(),
                })
                .WithStorage(settings)
                .WithDeliveryQueue(settings, provider);

            if (settings.Cluster.DiscoveryService is not null)
            {
                // Seeds from the headless Service's DNS records; joining starts once this node is listed.
                builder.AddStartup((system, _) =>
                {
                    var discovery = new SeedDiscovery(settings.Cluster, settings.Dns, provider.GetRequiredService<ILogger<SeedDiscovery>>());
                    var stopping = provider.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
                    Task.Run(() => discovery.JoinAsync(system, stopping), stopping).ContinueWith(
                        static _ => { }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                });
            }
            else if (settings.Cluster.Seeds.Count == 0)
            {
                // No seeds: this node is a cluster of one. There is no non-cluster code path.
                builder.AddStartup((system, _) => Cluster.Get(system).Join(Cluster.Get(system).SelfAddress));
            }
        });
        return services;
    }

    /// <summary>Bind the advertised address when it is an IP address, so that several nodes can share a port on
    /// distinct addresses (127.0.0.x locally, pod IPs in Kubernetes); bind every interface for a DNS name.</summary>
    private static string BindAddress(string host) => System.Net.IPAddress.TryParse(host, out _) ? host : "0.0.0.0";

    private static AkkaConfigurationBuilder WithStorage(this AkkaConfigurationBuilder builder, NodeSettings settings)
    {
        var (connectionString, providerName) = settings.IsPostgres
            ? (settings.Storage.ConnectionString!, ProviderName.PostgreSQL15)
            : ($"Data Source={settings.SqliteJournalPath};Pooling=True", ProviderName.SQLiteMS);
        if (!settings.IsPostgres)
        {
            builder.AddHocon(SqliteJournalDispatcher, HoconAddMode.Prepend);
        }

        return builder.WithSqlPersistence(connectionString, providerName, PersistenceMode.Both, autoInitialize: true);
    }

    /// <summary>
    /// SQLite runs every statement synchronously, fsync included, on the calling thread, and takes one writer at a
    /// time. By default the journal's write stream runs on the default dispatcher, i.e. on the .NET thread pool, whose
    /// workers then sit in fsync while SMTP sessions and actors wait for a thread; the pool answers by adding threads
    /// that the 2-core host cannot run. The journal, its write stream and the snapshot store get one thread of their
    /// own instead (one writer is all SQLite allows anyway). Measured in docs/BENCHMARKS.md: +25–30% messages per
    /// second with a new connection per message. PostgreSQL (asynchronous I/O through Npgsql) keeps the defaults.
    /// </summary>
    private const string SqliteJournalDispatcher = """
        mailcluster.sqlite-journal-dispatcher {
          type = ForkJoinDispatcher
          throughput = 100
          dedicated-thread-pool { thread-count = 1 }
        }
        akka.persistence.journal.sql {
          plugin-dispatcher = mailcluster.sqlite-journal-dispatcher
          materializer-dispatcher = mailcluster.sqlite-journal-dispatcher
        }
        akka.persistence.snapshot-store.sql.plugin-dispatcher = mailcluster.sqlite-journal-dispatcher
        """;

    private static AkkaConfigurationBuilder WithDeliveryQueue(this AkkaConfigurationBuilder builder, NodeSettings settings, IServiceProvider provider)
    {
        var extractor = new DomainQueueMessageExtractor(settings.Queue.Shards);
        if (!settings.Cluster.EffectiveRoles.Contains("delivery"))
        {
            return builder.WithShardRegionProxy<DomainQueueRegion>("domain-queue", "delivery", extractor);
        }

        var registry = new Lazy<IActorRef>(() => ActorRegistry.For(provider.GetRequiredService<ActorSystem>()).Get<DomainQueueRegion>());
        var services = new QueueServices(
            provider.GetRequiredService<ISpoolStore>(),
            // Every queue of a destination domain (each bucket of a split one) shares its connection cap and rate.
            new GatedConnector(provider.GetRequiredService<IDeliveryConnector>(), new DestinationGates(TimeProvider.System)),
            new RetryPolicy(settings.Retry),
            settings.Queue,
            TimeProvider.System,
            () => registry.Value,
            settings.Node.Hostname)
        {
            Metrics = provider.GetRequiredService<QueueMetrics>(),
            Buckets = settings.DomainBuckets,
        };
        builder
            .WithShardRegion<DomainQueueRegion>(
                "domain-queue",
                domain => DomainQueueEntity.Props(domain, services),
                extractor,
                new ShardOptions
                {
                    Role = "delivery",

                    // Queues with pending mail restart after a crash or a rebalance without waiting for new mail.
                    // The event-sourced store (not DData's LightningDB, broken here: PACKAGES.md).
                    RememberEntities = true,
                    RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
                    StateStoreMode = StateStoreMode.DData,

                    // Hand-off stops a queue as passivation does: its journal writes are persisted and acked first.
                    HandOffStopMessage = DomainQueueEntity.StopMessage,
                })

            // Tells the ops API of any node which buckets of a domain run here (also those above the configured count).
            .WithActors((system, _) => system.ActorOf(BucketDirectory.Props(() => registry.Value), BucketDirectory.Name));
        return builder.WithOrphanSweep(settings, provider);
    }

    /// <summary>
    /// The orphan spool sweep as a cluster singleton on the delivery role: one node sweeps at a time (the oldest), and
    /// another takes over when it leaves or dies. Only one at a time to spare the database and the queues the same
    /// questions; not for safety, since a run is idempotent and two overlapping runs (a hand-over, a split brain
    /// before the resolver acts) release nothing a queue holds.
    /// </summary>
    private static AkkaConfigurationBuilder WithOrphanSweep(this AkkaConfigurationBuilder builder, NodeSettings settings, IServiceProvider provider)
    {
        var options = settings.Queue.OrphanSweep;
        if (!options.Enabled)
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
                var entities = new QueueEntities(system, region, settings.DomainBuckets);
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
            new ClusterSingletonOptions { Role = "delivery" },
            createProxyToo: false);
    }
}
