using System.Globalization;
using System.Text;
using System.Text.Json;
using MailCluster.Ops.Access;
using MailCluster.Queue.Suppression;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace MailCluster.Ops.Suppression;

/// <summary>
/// The suppression list (issue 16), read from the cluster table so every node answers the same:
/// <list type="bullet">
/// <item><c>GET /api/v1/suppressions?offset=&amp;limit=&amp;credential=</c> (read): <c>{"total", "offset", "limit",
/// "next", "suppressions": [...]}</c>, ordered by address then credential; <c>credential=</c> filters one
/// credential's entries (<c>credential=*global</c>: only global ones).</item>
/// <item><c>GET /api/v1/suppressions/export?format=csv|jsonl</c> (read): every entry, as CSV with a header line or JSON
/// Lines.</item>
/// <item><c>POST /api/v1/suppressions</c> (admin) with <c>{"address", "credential"?, "reason"?, "expiresAt"? |
/// "expiryDays"?}</c>: 201 and the entry; replaces an entry of the same address and credential.</item>
/// <item><c>DELETE /api/v1/suppressions/{address}?credential=</c> (admin): 204, or 404 when there is no such entry.</item>
/// </list>
/// A change is in force on this node when the call returns and on every other node within about 2 s.
/// </summary>
public static class SuppressionApi
{
    public const string Route = "/api/v1/suppressions";
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    private const string GlobalOnly = "*global";

    public static IEndpointRouteBuilder MapSuppressionApi(this IEndpointRouteBuilder endpoints, int opsPort)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(Route, ListAsync).RequireOps(opsPort, ApiRole.Read);
        endpoints.MapGet(Route + "/export", ExportAsync).RequireOps(opsPort, ApiRole.Read);
        endpoints.MapPost(Route, AddAsync).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapDelete(Route + "/{address}", RemoveAsync).RequireOps(opsPort, ApiRole.Admin);
        return endpoints;
    }

    /// <summary>An entry as the API and JSON Lines export show it.</summary>
    public static object Json(SuppressionEntry e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new { address = e.Address, scope = e.Scope, credential = e.Credential, reason = e.Reason, source = e.Source, createdAt = e.CreatedAt, expiresAt = e.ExpiresAt };
    }

    private static async Task<IResult> ListAsync(HttpContext context, ISuppressionStore store, TimeProvider clock, CancellationToken ct)
    {
        var query = context.Request.Query;
        if (!TryInt(query["offset"], 0, int.MaxValue, 0, out var offset))
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, "offset must be a whole number of 0 or more", "offset");
        }

        if (!TryInt(query["limit"], 1, MaxLimit, DefaultLimit, out var limit))
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, $"limit must be a whole number from 1 to {MaxLimit}", "limit");
        }

        var entries = Filter(await Ordered(store, clock, ct).ConfigureAwait(false), query["credential"]);
        var page = entries.Skip(offset).Take(limit).Select(Json).ToList();
        int? next = offset + page.Count < entries.Count ? offset + page.Count : null;
        return Results.Json(new { total = entries.Count, offset, limit, next, suppressions = page });
    }

    private static async Task<IResult> ExportAsync(HttpContext context, ISuppressionStore store, TimeProvider clock, CancellationToken ct)
    {
        var format = context.Request.Query["format"].ToString() is { Length: > 0 } f ? f : "csv";
        if (format is not ("csv" or "jsonl"))
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, "format must be csv or jsonl", "format");
        }

        var entries = Filter(await Ordered(store, clock, ct).ConfigureAwait(false), context.Request.Query["credential"]);
        var text = new StringBuilder();
        if (format == "csv")
        {
            text.Append("address,scope,credential,reason,source,created_at,expires_at\r\n");
            foreach (var e in entries)
            {
                text.AppendJoin(',', Csv(e.Address), e.Scope, Csv(e.Credential ?? ""), Csv(e.Reason), Csv(e.Source),
                    e.CreatedAt.ToString("O", CultureInfo.InvariantCulture), e.ExpiresAt.ToString("O", CultureInfo.InvariantCulture)).Append("\r\n");
            }

            return Results.Text(text.ToString(), "text/csv; charset=utf-8");
        }

        foreach (var e in entries)
        {
            text.Append(JsonSerializer.Serialize(Json(e))).Append('\n');
        }

        return Results.Text(text.ToString(), "application/jsonl; charset=utf-8");
    }

    private static async Task<IResult> AddAsync(HttpContext context, ISuppressionStore store, SuppressionRefresher refresher, SuppressionOptions options, TimeProvider clock, CancellationToken ct)
    {
        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: ct).ConfigureAwait(false);
            body = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, $"the body must be a JSON object {{\"address\", ...}}: {ex.Message}", "body");
        }

        var now = clock.GetUtcNow();
        var (entry, problem, field) = SuppressionRequest.Parse(body, options, now);
        if (entry is null)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, problem!, field);
        }

        try
        {
            await store.UpsertAsync(entry, ct).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"the suppression list cannot be written: {ex.Message}");
        }

        await refresher.RefreshAsync(ct).ConfigureAwait(false);
        return Results.Json(Json(entry), statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> RemoveAsync(string address, HttpContext context, ISuppressionStore store, SuppressionRefresher refresher, CancellationToken ct)
    {
        var credential = context.Request.Query["credential"].ToString() is { Length: > 0 } c ? c : null;
        bool removed;
        try
        {
            removed = await store.RemoveAsync(SuppressionEntry.Normalize(address), credential, ct).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"the suppression list cannot be written: {ex.Message}");
        }

        await refresher.RefreshAsync(ct).ConfigureAwait(false);
        return removed
            ? Results.NoContent()
            : ApiProblem.Result(StatusCodes.Status404NotFound, credential is null ? $"<{address}> is not suppressed globally" : $"<{address}> is not suppressed for credential '{credential}'", "address");
    }

    private static async Task<List<SuppressionEntry>> Ordered(ISuppressionStore store, TimeProvider clock, CancellationToken ct) =>
        (await store.ActiveAsync(clock.GetUtcNow(), ct).ConfigureAwait(false))
            .OrderBy(e => e.Address, StringComparer.Ordinal)
            .ThenBy(e => e.Credential ?? "", StringComparer.Ordinal)
            .ToList();

    private static List<SuppressionEntry> Filter(List<SuppressionEntry> entries, string? credential) => credential switch
    {
        null or "" => entries,
        GlobalOnly => entries.Where(e => e.Credential is null).ToList(),
        _ => entries.Where(e => e.Credential == credential).ToList(),
    };

    private static bool TryInt(string? text, int min, int max, int fallback, out int value)
    {
        if (string.IsNullOrEmpty(text))
        {
            value = fallback;
            return true;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
    }

    /// <summary>RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. A field that a
    /// spreadsheet would run as a formula (=, +, -, @) gets a leading apostrophe (CSV injection).</summary>
    internal static string Csv(string field)
    {
        if (field.Length > 0 && field[0] is '=' or '+' or '-' or '@')
        {
            field = "'" + field;
        }

        return field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
    }
}
