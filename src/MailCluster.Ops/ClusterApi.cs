using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using MailCluster.Ops.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MailCluster.Ops;

/// <summary>
/// The cluster admin routes (versioned, STYLE habit 9):
/// <list type="bullet">
/// <item><c>GET /api/v1/cluster</c>: this node, the leader, every member with roles, status and reachability, and
/// per node how many domain-queue shards and entities it hosts (ClusterSharding's GetClusterShardingStats, which asks
/// every region; a region that does not answer in time is listed under <c>unanswered</c>).</item>
/// <item><c>POST /api/v1/node/drain</c>: the same path as SIGTERM (the host stops: SMTP listeners close, sessions
/// get 421 and in-progress DATA finishes, then CoordinatedShutdown hands the shards off and leaves the cluster).
/// Answers 202 at once; the process exits when the drain is done.</item>
/// </list>
/// </summary>
public static class ClusterApi
{
    private static readonly TimeSpan StatsTimeout = TimeSpan.FromSeconds(3);

    /// <param name="region">The domain-queue shard region (or its proxy on edge-only nodes).</param>
    public static IEndpointRouteBuilder MapClusterApi(this IEndpointRouteBuilder endpoints, int opsPort, Func<IServiceProvider, IActorRef> region)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/api/v1/cluster", async (IServiceProvider services, CancellationToken ct) =>
            Results.Json(await DescribeAsync(services.GetRequiredService<ActorSystem>(), region(services), ct).ConfigureAwait(false)))
            .RequireOps(opsPort, ApiRole.Read);
        endpoints.MapPost("/api/v1/node/drain", (IHostApplicationLifetime lifetime) =>
        {
            lifetime.StopApplication();
            return Results.Accepted(value: new { status = "draining" });
        }).RequireOps(opsPort, ApiRole.Operate);
        return endpoints;
    }

    /// <summary>Readiness fails as soon as the node drains, so a load balancer stops sending it clients.</summary>
    public static IServiceCollection AddDrainReadiness(this IServiceCollection services) =>
        services.AddReadinessCheck("drain", (sp, _) => Task.FromResult(
            sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested ? "node is draining" : null));

    public static async Task<ClusterView> DescribeAsync(ActorSystem system, IActorRef region, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(region);
        var cluster = Cluster.Get(system);
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var members = state.Members
            .Select(m => new MemberView(m.Address.ToString(), [.. m.Roles.Order(StringComparer.Ordinal)], m.Status.ToString(), !unreachable.Contains(m.Address)))
            .ToList();
        List<ShardHostView> hosts = [];
        List<string> unanswered = [];
        string? error = null;
        try
        {
            var stats = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(StatsTimeout), StatsTimeout + TimeSpan.FromSeconds(1), cancellationToken)
                .ConfigureAwait(false);
            hosts = [.. stats.Regions
                .Select(r => new ShardHostView(r.Key.ToString(), r.Value.Stats.Count, r.Value.Stats.Values.Sum()))
                .OrderBy(h => h.Address, StringComparer.Ordinal)];
            unanswered = [.. stats.Regions.Where(r => r.Value.Failed.Count > 0).Select(r => r.Key.ToString())];
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
        {
            error = "sharding statistics did not arrive in time";
        }

        return new ClusterView(
            cluster.SelfAddress.ToString(),
            state.Leader?.ToString(),
            members,
            hosts,
            hosts.Sum(h => h.Shards),
            hosts.Sum(h => h.Entities),
            unanswered,
            error,
            BuildInfo.Version);
    }
}

public sealed record ClusterView(
    string Self,
    string? Leader,
    IReadOnlyList<MemberView> Members,
    IReadOnlyList<ShardHostView> ShardHosts,
    int TotalShards,
    int TotalEntities,
    IReadOnlyList<string> Unanswered,
    string? Error,
    string Version);

public sealed record MemberView(string Address, IReadOnlyList<string> Roles, string Status, bool Reachable);

/// <summary>Shards and entities (domain queues, or buckets of one) hosted by the region at <paramref name="Address"/>.</summary>
public sealed record ShardHostView(string Address, int Shards, int Entities);
