using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using MailCluster.Host.Configuration;

namespace MailCluster.Host.Composition;

/// <summary>The Akka side of a node that is the Host's own feature: logging, remoting, cluster membership (seeds or
/// discovery, Split Brain Resolver); the features' Akka extensions are chained in by Program.cs.</summary>
public static class AkkaComposition
{
    public const string SystemName = "mailcluster";

    /// <param name="features">Chains the features' Akka extensions (storage, delivery queue, ...) after the
    /// cluster's own configuration.</param>
    public static IServiceCollection AddMailClusterAkka(this IServiceCollection services, NodeSettings settings, Action<AkkaConfigurationBuilder, IServiceProvider> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        services.AddSingleton<MailCluster.Queue.Acceptance.IAcceptanceFence>(sp => new ClusterMajorityFence(sp));
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
                .WithRemoting(new RemoteOptions { HostName = BindAddress(settings.Cluster.Host), PublicHostName = settings.Cluster.Host, Port = settings.Cluster.Port })
                .WithClustering(new ClusterOptions
                {
                    Roles = settings.Cluster.EffectiveRoles.ToArray(),
                    SeedNodes = settings.Cluster.Seeds.Select(s => $"akka.tcp://{SystemName}@{s}").ToArray(),
                });
            features(builder, provider);

            if (settings.Cluster.DiscoveryService is not null)
            {
                // Seeds from the headless Service's DNS records; joining starts once this node is listed.
                builder.AddStartup((system, _) =>
                {
                    var discovery = new SeedDiscovery(settings.Cluster, settings.Dns, provider.GetRequiredService<ILogger<SeedDiscovery>>());
                    var stopping = provider.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
                    var log = provider.GetRequiredService<ILogger<SeedDiscovery>>();

                    // JoinAsync logs and retries every lookup failure itself; a fault here is a bug, and must be seen.
                    Task.Run(() => discovery.JoinAsync(system, stopping), stopping).ContinueWith(
                        t => SeedDiscovery.LogStopped(log, t.Exception),
                        CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
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
}
