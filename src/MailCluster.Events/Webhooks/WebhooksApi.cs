using System.Text.Json;
using MailCluster.Ops.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace MailCluster.Events.Webhooks;

/// <summary>
/// Webhook administration (role <c>admin</c>), effective on the delivering node within a second:
/// <list type="bullet">
/// <item><c>POST /api/v1/webhooks</c> <c>{"url", "secret"?, "events"?: [types], "batch_size"?, "max_retry_seconds"?,
/// "after"?: offset}</c> → 201 with the webhook; the secret is in the answer only when it was generated (this once).
/// Delivery starts after the newest event unless <c>after</c> names an offset to replay from.</item>
/// <item><c>GET /api/v1/webhooks</c>: every webhook with its cursor, lag and failed count, never a secret.</item>
/// <item><c>DELETE /api/v1/webhooks/{id}</c>: 204; 404 unknown; 409 for a configured webhook (change the configuration).</item>
/// <item><c>GET /api/v1/webhooks/{id}/attempts</c>: the last requests and their answers, newest first.</item>
/// </list>
/// </summary>
public static class WebhooksApi
{
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder endpoints, int opsPort)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/api/v1/webhooks", CreateAsync).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapGet("/api/v1/webhooks", ListAsync).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapDelete("/api/v1/webhooks/{id}", DeleteAsync).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapGet("/api/v1/webhooks/{id}/attempts", AttemptsAsync).RequireOps(opsPort, ApiRole.Admin);
        return endpoints;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, EventStore store, CancellationToken ct)
    {
        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: ct).ConfigureAwait(false);
            body = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return Bad($"the body must be a JSON object {{\"url\", ...}}: {ex.Message}", "body");
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            return Bad("the body must be a JSON object {\"url\", ...}", "body");
        }

        var url = String(body, "url");
        if (WebhookDefinition.CheckUrl(url) is { } badUrl)
        {
            return Bad($"url {badUrl}", "url");
        }

        var secret = String(body, "secret");
        if (body.TryGetProperty("secret", out var s) && (s.ValueKind != JsonValueKind.String || secret!.Length is < 16 or > 200))
        {
            return Bad("secret must be a string of 16 to 200 characters (or left out to have one generated)", "secret");
        }

        var events = new List<string>();
        if (body.TryGetProperty("events", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                return Bad($"events must be a list of types: {string.Join(", ", EventTypes.All)}", "events");
            }

            foreach (var item in list.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String || EventTypes.Parse(item.GetString()) is not { } type)
                {
                    return Bad($"events must be a list of types: {string.Join(", ", EventTypes.All)}", "events");
                }

                events.Add(type);
            }
        }

        if (!Int(body, "batch_size", 1, 1, WebhookDefinition.MaxBatchSize, out var batch))
        {
            return Bad($"batch_size must be a whole number from 1 to {WebhookDefinition.MaxBatchSize}", "batch_size");
        }

        if (!Int(body, "max_retry_seconds", 0, 1, 30 * 86_400, out var retry))
        {
            return Bad("max_retry_seconds must be a whole number from 1 to 2592000", "max_retry_seconds");
        }

        long? after = null;
        if (body.TryGetProperty("after", out var a))
        {
            if (a.ValueKind != JsonValueKind.Number || !a.TryGetInt64(out var offset) || offset < 0)
            {
                return Bad("after must be an event offset (0 or more) to deliver from", "after");
            }

            after = offset;
        }

        var generated = secret is null;
        var hook = new WebhookDefinition(
            "wh_" + Guid.NewGuid().ToString("N")[..16], url!, secret ?? WebhookSignature.NewSecret(), events, batch,
            body.TryGetProperty("max_retry_seconds", out _) ? retry : null, WebhookDefinition.ApiOrigin, DateTimeOffset.UtcNow);
        try
        {
            await store.UpsertWebhookAsync(hook, after, ct).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"the webhook store cannot be written: {ex.Message}");
        }

        var cursor = await store.CursorAsync(hook.Id, ct).ConfigureAwait(false);
        return Results.Json(Describe(hook, cursor, null, generated ? hook.Secret : null), statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(EventStore store, CancellationToken ct)
    {
        var max = await store.MaxOffsetAsync(ct).ConfigureAwait(false);
        var hooks = new List<object>();
        foreach (var hook in await store.WebhooksAsync(ct).ConfigureAwait(false))
        {
            hooks.Add(Describe(hook, await store.CursorAsync(hook.Id, ct).ConfigureAwait(false), max, null));
        }

        return Results.Json(new { webhooks = hooks });
    }

    private static async Task<IResult> DeleteAsync(string id, EventStore store, CancellationToken ct)
    {
        var hook = (await store.WebhooksAsync(ct).ConfigureAwait(false)).FirstOrDefault(h => h.Id == id);
        if (hook is null)
        {
            return ApiProblem.Result(StatusCodes.Status404NotFound, $"no webhook '{id}'", "id");
        }

        if (hook.Origin == WebhookDefinition.ConfigOrigin)
        {
            return ApiProblem.Result(StatusCodes.Status409Conflict, $"webhook '{id}' comes from the configuration (MailCluster:Webhooks); remove it there", "id");
        }

        await store.DeleteWebhookAsync(id, ct).ConfigureAwait(false);
        return Results.NoContent();
    }

    private static async Task<IResult> AttemptsAsync(string id, EventStore store, CancellationToken ct)
    {
        if (!(await store.WebhooksAsync(ct).ConfigureAwait(false)).Any(h => h.Id == id))
        {
            return ApiProblem.Result(StatusCodes.Status404NotFound, $"no webhook '{id}'", "id");
        }

        var attempts = await store.AttemptsAsync(id, EventStore.AttemptsKept, ct).ConfigureAwait(false);
        return Results.Json(new
        {
            id,
            attempts = attempts.Select(a => new
            {
                at = a.At,
                first_offset = a.FirstOffset,
                last_offset = a.LastOffset,
                events = a.Events,
                status = a.Status,
                answer = a.Answer,
                error = a.Error,
                duration_ms = a.DurationMs,
                result = a.Result,
            }),
        });
    }

    private static object Describe(WebhookDefinition hook, WebhookCursor? cursor, long? max, string? secret) => new
    {
        id = hook.Id,
        url = hook.Url,
        events = hook.EffectiveEvents,
        batch_size = hook.BatchSize,
        max_retry_seconds = hook.MaxRetrySeconds,
        origin = hook.Origin,
        created = hook.Created,
        offset = cursor?.Offset,
        lag = max is { } m && cursor is { } c ? Math.Max(0, m - c.Offset) : (long?)null,
        failing_since = cursor?.FailingSince,
        failed_events = cursor?.FailedEvents ?? 0,
        secret,
    };

    private static string? String(JsonElement body, string name) =>
        body.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    private static bool Int(JsonElement body, string name, int fallback, int min, int max, out int value)
    {
        value = fallback;
        return !body.TryGetProperty(name, out var p) || (p.ValueKind == JsonValueKind.Number && p.TryGetInt32(out value) && value >= min && value <= max);
    }

    private static IResult Bad(string detail, string field) => ApiProblem.Result(StatusCodes.Status400BadRequest, detail, field);
}
