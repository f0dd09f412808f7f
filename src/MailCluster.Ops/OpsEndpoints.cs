using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace MailCluster.Ops;

/// <summary>
/// Health endpoints (STYLE habit 9: ops endpoints say why). <c>/healthz/live</c> answers 200 while the
/// process serves HTTP; <c>/healthz/ready</c> answers 200 only when every <see cref="ReadinessCheck"/>
/// holds, else 503 with each failing check and its reason.
/// </summary>
public static class OpsEndpoints
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapOps(this IEndpointRouteBuilder endpoints, int opsPort)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var host = $"*:{opsPort}";
        endpoints.MapGet("/healthz/live", () => Results.Ok(new { status = "live" })).RequireHost(host);
        endpoints.MapGet("/healthz/ready", async (IEnumerable<ReadinessCheck> checks, CancellationToken ct) =>
        {
            var report = await Readiness.EvaluateAsync(checks, ProbeTimeout, ct).ConfigureAwait(false);
            return report.Ready
                ? Results.Ok(new { status = "ready" })
                : Results.Json(new { status = "not ready", reasons = report.Failures }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }).RequireHost(host);
        return endpoints;
    }

    public static IServiceCollection AddReadinessCheck(this IServiceCollection services, string name, Func<IServiceProvider, CancellationToken, Task<string?>> probe) =>
        services.AddSingleton(sp => new ReadinessCheck(name, ct => probe(sp, ct)));
}
