using MailCluster.Ops.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace MailCluster.Ops;

/// <summary>
/// Health endpoints (STYLE habit 9: ops endpoints say why). <c>/healthz/live</c> answers 200 while the
/// process serves HTTP; <c>/healthz/ready</c> answers 200 only when every <see cref="ReadinessCheck"/>
/// holds, else 503 with each failing check and its reason. <c>/metrics</c> is the Prometheus exposition of the
/// node's <see cref="CollectorRegistry"/> (when one is registered), and <c>/</c> and <c>/dashboard</c> the
/// <see cref="Dashboard"/> page, all open. Under <c>/api/</c> every route needs a bearer token
/// (<see cref="ApiAccessMiddleware"/>); the token routes and the OpenAPI document are mapped here too. Every route
/// answers on the ops port only, matched on the connection's local port (never the Host header).
/// </summary>
public static class OpsEndpoints
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapOps(this IEndpointRouteBuilder endpoints, int opsPort)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/healthz/live", () => Results.Ok(new { status = "live" })).RequireLocalPort(opsPort);
        endpoints.MapGet("/healthz/ready", async (IEnumerable<ReadinessCheck> checks, CancellationToken ct) =>
        {
            var report = await Readiness.EvaluateAsync(checks, ProbeTimeout, ct).ConfigureAwait(false);
            return report.Ready
                ? Results.Ok(new { status = "ready" })
                : Results.Json(new { status = "not ready", reasons = report.Failures }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }).RequireLocalPort(opsPort);
        if (endpoints.ServiceProvider.GetService<CollectorRegistry>() is { } registry)
        {
            _ = endpoints.ServiceProvider.GetService<NodeMetrics>(); // built now, so that its gauges are refreshed before each scrape
            endpoints.MapMetrics("/metrics", registry).RequireLocalPort(opsPort);
        }

        endpoints.MapGet("/", () => Results.Content(Dashboard.Html, Dashboard.ContentType)).RequireLocalPort(opsPort);
        endpoints.MapGet("/dashboard", () => Results.Content(Dashboard.Html, Dashboard.ContentType)).RequireLocalPort(opsPort);
        endpoints.MapTokenApi(opsPort);
        endpoints.MapOpsApiContract(opsPort);
        return endpoints;
    }

    public static IServiceCollection AddReadinessCheck(this IServiceCollection services, string name, Func<IServiceProvider, CancellationToken, Task<string?>> probe) =>
        services.AddSingleton(sp => new ReadinessCheck(name, ct => probe(sp, ct)));
}
