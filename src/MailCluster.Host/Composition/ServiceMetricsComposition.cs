using MailCluster.Edge.Tls;
using MailCluster.Host.Configuration;
using MailCluster.Ops;
using MailCluster.Queue;
using Prometheus;

namespace MailCluster.Host.Composition;

/// <summary>Wires <see cref="ServiceMetrics"/> (build info, certificate expiry, oldest queued message) to the node's
/// registry, the edge's certificate and the domain queues running here. Built when the host starts.</summary>
public static class ServiceMetricsComposition
{
    public static IServiceCollection AddServiceMetrics(this IServiceCollection services, NodeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var edge = settings.Cluster.EffectiveRoles.Contains("edge");
        services.AddSingleton(sp =>
        {
            var queues = sp.GetRequiredService<QueueMetrics>().Ages;
            return new ServiceMetrics(
                sp.GetRequiredService<CollectorRegistry>(),
                () => edge && sp.GetService<CertificateProvider>() is { } certificates ? new DateTimeOffset(certificates.Current.NotAfter.ToUniversalTime()) : null,
                queues.OldestArrival,
                TimeProvider.System);
        });
        services.AddHostedService(sp => new Activation(sp.GetRequiredService<ServiceMetrics>()));
        return services;
    }

    /// <summary>Builds the metrics at start, so that the first scrape already has them.</summary>
    private sealed class Activation(ServiceMetrics metrics) : IHostedService
    {
        public ServiceMetrics Metrics { get; } = metrics;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
