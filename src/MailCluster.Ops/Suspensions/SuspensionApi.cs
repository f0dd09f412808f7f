using System.Text.Json;
using MailCluster.Ops.Access;
using MailCluster.Queue.Suspensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace MailCluster.Ops.Suspensions;

/// <summary>
/// Suspensions of destination domains (KumoMTA's <c>suspend/v1</c>), cluster-wide:
/// <list type="bullet">
/// <item><c>POST /api/v1/suspensions</c> with <c>{"domain", "duration_seconds", "reason"}</c> (role <c>operate</c>):
/// no queue of the domain, in any bucket on any node, starts a delivery until the end; deliveries running finish.
/// Setting it again replaces it (new end and reason). Answers 200 with the suspension and <c>replaced</c>.</item>
/// <item><c>GET /api/v1/suspensions</c> (role <c>read</c>): the active ones, from the database.</item>
/// <item><c>DELETE /api/v1/suspensions/{domain}</c> (role <c>operate</c>): ends it now; the queues resume within
/// about 2 s on every node (at once on this one). 404 when none is active.</item>
/// </list>
/// Validation problems name the field: <c>domain</c> (a domain name, not a bucket), <c>duration_seconds</c> (a number
/// above 0, at most <see cref="DestinationSuspension.MaxDuration"/>), <c>reason</c> (1 to
/// <see cref="DestinationSuspension.MaxReasonLength"/> characters, no control characters). A database that cannot be
/// written answers 503.
/// </summary>
public static class SuspensionApi
{
    public static IEndpointRouteBuilder MapSuspensionApi(this IEndpointRouteBuilder endpoints, int opsPort)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/api/v1/suspensions", SuspendAsync).RequireOps(opsPort, ApiRole.Operate);
        endpoints.MapGet("/api/v1/suspensions", ListAsync).RequireOps(opsPort, ApiRole.Read);
        endpoints.MapDelete("/api/v1/suspensions/{domain}", ResumeAsync).RequireOps(opsPort, ApiRole.Operate);
        return endpoints;
    }

    /// <summary>The suspension a request body asks for, or the problem naming the field at fault.</summary>
    public static (DestinationSuspension? Suspension, string? Problem, string? Field) Parse(JsonElement body, DateTimeOffset now)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return (null, "the body must be a JSON object {\"domain\", \"duration_seconds\", \"reason\"}", "body");
        }

        var domainText = body.TryGetProperty("domain", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : null;
        if (domainText is null)
        {
            return (null, "domain must be a string: the destination domain to suspend", "domain");
        }

        var (domain, domainProblem) = QueueApi.ParseDomain(domainText);
        if (domain is null)
        {
            return (null, domainProblem, "domain");
        }

        double max = DestinationSuspension.MaxDuration.TotalSeconds;
        if (!body.TryGetProperty("duration_seconds", out var s) || s.ValueKind != JsonValueKind.Number || !s.TryGetDouble(out double seconds)
            || !double.IsFinite(seconds) || seconds <= 0 || seconds > max)
        {
            return (null, $"duration_seconds must be a number of seconds above 0 and at most {max:0} ({DestinationSuspension.MaxDuration.TotalDays:0} days)", "duration_seconds");
        }

        var reason = body.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : null;
        if (reason is null || reason.Trim().Length == 0 || reason.Length > DestinationSuspension.MaxReasonLength || reason.Any(char.IsControl))
        {
            return (null, $"reason must be a string of 1 to {DestinationSuspension.MaxReasonLength} characters without control characters", "reason");
        }

        return (new DestinationSuspension(domain, reason.Trim(), now, now + TimeSpan.FromSeconds(seconds)), null, null);
    }

    private static async Task<IResult> SuspendAsync(HttpContext context, ISuspensionStore store, SuspensionRefresher refresher, CancellationToken ct)
    {
        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: ct).ConfigureAwait(false);
            body = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, $"the body must be a JSON object {{\"domain\", \"duration_seconds\", \"reason\"}}: {ex.Message}", "body");
        }

        var now = DateTimeOffset.UtcNow;
        var (suspension, problem, field) = Parse(body, now);
        if (suspension is null)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, problem!, field);
        }

        bool replaced;
        try
        {
            replaced = await store.PutAsync(suspension, now, ct).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"the suspension store cannot be written: {ex.Message}");
        }

        await refresher.RefreshAsync(ct).ConfigureAwait(false);
        context.Items[ApiAccessMiddleware.AuditTargetKey] = $"suspension domain={suspension.Domain} until={suspension.Until:o} reason={suspension.Reason}";
        return Results.Json(new { suspension = View(suspension, now), replaced });
    }

    private static async Task<IResult> ListAsync(ISuspensionStore store, CancellationToken ct)
    {
        IReadOnlyList<DestinationSuspension> stored;
        try
        {
            stored = await store.ListAsync(ct).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"the suspension store cannot be read: {ex.Message}");
        }

        var now = DateTimeOffset.UtcNow;
        return Results.Json(new { suspensions = stored.Where(s => s.ActiveAt(now)).Select(s => View(s, now)) });
    }

    private static async Task<IResult> ResumeAsync(string domain, HttpContext context, ISuspensionStore store, SuspensionRefresher refresher, CancellationToken ct)
    {
        var (key, problem) = QueueApi.ParseDomain(domain);
        if (key is null)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, problem!, "domain");
        }

        bool ended;
        try
        {
            ended = await store.DeleteAsync(key, DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"the suspension store cannot be written: {ex.Message}");
        }

        if (!ended)
        {
            return ApiProblem.Result(StatusCodes.Status404NotFound, $"{key} is not suspended", "domain");
        }

        await refresher.RefreshAsync(ct).ConfigureAwait(false);
        context.Items[ApiAccessMiddleware.AuditTargetKey] = $"suspension domain={key} ended";
        return Results.Json(new { domain = key, status = "resumed" });
    }

    private static object View(DestinationSuspension s, DateTimeOffset now) => new
    {
        domain = s.Domain,
        reason = s.Reason,
        createdAt = s.CreatedAt,
        until = s.Until,
        remainingSeconds = Math.Max(0, Math.Round((s.Until - now).TotalSeconds)),
    };
}
