using System.Net;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using MailCluster.Edge;
using MailCluster.Ops.Credentials;
using MailCluster.Ops.Suspensions;
using MailCluster.Ops.Tasks;
using MailCluster.Ops.Views;
using MailCluster.Queue;
using MailCluster.Queue.Buckets;
using MailCluster.Ops.Suppression;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace MailCluster.Ops;

/// <summary>
/// The ops feature (STYLE habit 6): the node's Prometheus registry with the metric blocks of each owner (edge,
/// queue, node state) and the readiness checks of the node itself (cluster membership, drain); its own HTTP
/// listener; the health, metrics, dashboard, cluster and queue routes. Other features add readiness checks with
/// <see cref="OpsEndpoints.AddReadinessCheck"/> from their own hosting extension.
/// </summary>
public static class OpsHosting
{
    /// <summary>
    /// A registry of its own rather than prometheus-net's static default: the default registry also starts .NET
    /// event-counter and Meter listeners, which would observe every Kestrel SMTP connection; here only the process
    /// and GC figures of <see cref="DotNetStats"/> are added. The blocks are created now, so that every declared
    /// metric is exposed from the first scrape on, whichever role the node has.
    /// </summary>
    public static IServiceCollection AddOps(this IServiceCollection services)
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
        services.AddReadinessCheck("cluster", (sp, _) =>
        {
            var member = Cluster.Get(sp.GetRequiredService<ActorSystem>()).SelfMember;
            return Task.FromResult(member.Status == MemberStatus.Up ? null : $"cluster member status is {member.Status}, not Up");
        });
        return services.AddDrainReadiness();
    }

    /// <summary>The ops HTTP listener (HTTP/1.1 only).</summary>
    public static KestrelServerOptions ListenOps(this KestrelServerOptions kestrel, OpsOptions ops)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(ops);
        kestrel.Listen(Endpoint(ops.BindAddress, ops.Port), l => l.Protocols = HttpProtocols.Http1);
        return kestrel;
    }

    /// <summary>Health, metrics and dashboard, and the cluster and queue APIs over the region registered as
    /// <see cref="DomainQueueRegion"/>, all on the ops port.</summary>
    public static IEndpointRouteBuilder MapOpsApi(this IEndpointRouteBuilder endpoints, OpsOptions ops, DomainBuckets buckets)
    {
        ArgumentNullException.ThrowIfNull(ops);
        return endpoints
            .MapOps(ops.Port)
            .MapClusterApi(ops.Port, RequiredRegion)
            .MapQueueApi(ops.Port, RequiredRegion, buckets)
            .MapCredentialsApi(ops.Port)
            .MapHoldApi(ops.Port, RequiredRegion, buckets)
            .MapSuspensionApi(ops.Port)
            .MapQueueViewApi(ops.Port, RequiredRegion)
            .MapTaskApi(ops.Port)
            .MapSuppressionApi(ops.Port);
    }

    private static IActorRef RequiredRegion(IServiceProvider services) =>
        services.GetRequiredService<IRequiredActor<DomainQueueRegion>>().ActorRef;

    private static IActorRef? Region(IServiceProvider services)
    {
        try
        {
            return RequiredRegion(services);
        }
        catch (MissingActorRegistryEntryException)
        {
            return null; // not started yet
        }
    }

    private static IPEndPoint Endpoint(string bind, int port) =>
        bind is "*" or "" ? new IPEndPoint(IPAddress.IPv6Any, port) : new IPEndPoint(IPAddress.Parse(bind), port);
}
