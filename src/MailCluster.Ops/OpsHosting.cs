using Akka.Actor;
using Akka.Hosting;
using MailCluster.Edge;
using MailCluster.Ops;
using MailCluster.Queue;
using Prometheus;

namespace MailCluster.Host.Composition;

/// <summary>
/// The node's Prometheus registry and the metric blocks of each owner (edge, queue, node state), served at
/// <c>/metrics</c> on the ops port. A registry of its own rather than prometheus-net's static default: the default
/// registry also starts .NET event-counter and Meter listeners, which would observe every Kestrel SMTP connection;
/// here only the process and GC figures of <see cref="DotNetStats"/> are added.
/// </summary>
public static class MetricsComposition
{
    public static IServiceCollection AddNodeMetrics(this IServiceCollection services)
    {
        var registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(registry);
        var factory = Metrics.WithCustomRegistry(registry);
        services.AddSingleton(registry);
        services.AddSingleton(new EdgeMetrics(factory));
        services.AddSingleton(new QueueMetrics(factory));
        services.AddSingleton(sp => new NodeMetrics(
            registry,
            () => sp.GetService<ActorSystem>(),
            () => Region(sp),
            sp.GetServices<ReadinessCheck>()));
        return services;
    }

    private static IActorRef? Region(IServiceProvider services)
    {
        try
        {
            return services.GetRequiredService<IRequiredActor<DomainQueueRegion>>().ActorRef;
        }
        catch (MissingActorRegistryEntryException)
        {
            return null; // not started yet
        }
    }
}
