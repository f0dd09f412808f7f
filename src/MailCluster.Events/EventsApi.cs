using System.Globalization;
using System.Text;
using MailCluster.Ops.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace MailCluster.Events;

/// <summary>
/// The delivery events, read role, answered by any node from the events table:
/// <list type="bullet">
/// <item><c>GET /api/v1/messages/{id}/events</c>: every event of the queue id, in offset order (at most 1,000).</item>
/// <item><c>GET /api/v1/events?recipient=&amp;type=&amp;since=&amp;after=&amp;limit=</c>: events after offset <c>after</c>
/// (default 0), oldest first, at most <c>limit</c> (1–1,000, default 100); <c>type</c> one type or a comma list;
/// <c>since</c> an ISO 8601 time or Unix seconds. The answer's <c>next_after</c> is the offset to pass as <c>after</c>
/// for the next page (the same one when there was nothing new).</item>
/// </list>
/// Each event is its JSON record with <c>offset</c> added. A bad parameter is a 400 problem naming it.
/// </summary>
public static class EventsApi
{
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder endpoints, int opsPort)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/api/v1/messages/{id}/events", MessageEventsAsync).RequireOps(opsPort, ApiRole.Read);
        endpoints.MapGet("/api/v1/events", EventsAsync).RequireOps(opsPort, ApiRole.Read);
        return endpoints;
    }

    private static async Task<IResult> MessageEventsAsync(string id, EventStore store, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > 100)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, "id must be a queue id", "id");
        }

        var events = await store.QueryAsync(new EventQuery(0, MaxLimit, QueueId: id), ct).ConfigureAwait(false);
        return Page(events, 0, "queue_id", id);
    }

    private static async Task<IResult> EventsAsync(HttpContext context, EventStore store, CancellationToken ct)
    {
        var query = context.Request.Query;
        if (!TryLong(query["after"], 0, out var after) || after < 0)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, "after must be an offset (a whole number, 0 or more)", "after");
        }

        if (!TryLong(query["limit"], 100, out var limit) || limit is < 1 or > MaxLimit)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, $"limit must be a whole number from 1 to {MaxLimit}", "limit");
        }

        List<string>? types = null;
        if (query["type"].ToString() is { Length: > 0 } typeText)
        {
            types = [];
            foreach (var part in typeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (EventTypes.Parse(part) is not { } type)
                {
                    return ApiProblem.Result(StatusCodes.Status400BadRequest, $"type must be one or more of {string.Join(", ", EventTypes.All)} (comma-separated)", "type");
                }

                types.Add(type);
            }
        }

        DateTimeOffset? since = null;
        if (query["since"].ToString() is { Length: > 0 } sinceText)
        {
            if (long.TryParse(sinceText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds < 253_402_300_800)
            {
                since = DateTimeOffset.FromUnixTimeSeconds(seconds);
            }
            else if (DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                since = time;
            }
            else
            {
                return ApiProblem.Result(StatusCodes.Status400BadRequest, "since must be an ISO 8601 time (2026-12-06T04:00:00Z) or Unix seconds", "since");
            }
        }

        var recipient = query["recipient"].ToString() is { Length: > 0 } r ? r.Trim() : null;
        if (recipient is { Length: > 320 })
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, "recipient must be an address of at most 320 characters", "recipient");
        }

        var events = await store.QueryAsync(new EventQuery(after, (int)limit, Recipient: recipient, Since: since, Types: types), ct).ConfigureAwait(false);
        return Page(events, after, null, null);
    }

    /// <summary>Writes the stored records as they are (no re-serialisation).</summary>
    private static IResult Page(IReadOnlyList<StoredEvent> events, long after, string? key, string? value)
    {
        var json = new StringBuilder("{");
        if (key is not null)
        {
            json.Append('"').Append(key).Append("\":").Append(System.Text.Json.JsonSerializer.Serialize(value)).Append(',');
        }

        json.Append("\"events\":[").AppendJoin(',', events.Select(e => e.WithOffset())).Append("],\"next_after\":")
            .Append((events.Count == 0 ? after : events[^1].Offset).ToString(CultureInfo.InvariantCulture)).Append('}');
        return Results.Text(json.ToString(), "application/json", Encoding.UTF8);
    }

    private static bool TryLong(Microsoft.Extensions.Primitives.StringValues text, long fallback, out long value)
    {
        if (text.Count == 0 || string.IsNullOrEmpty(text.ToString()))
        {
            value = fallback;
            return true;
        }

        return long.TryParse(text.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
