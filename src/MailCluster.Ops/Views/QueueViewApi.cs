using System.Globalization;
using System.Text.Json.Serialization;
using Akka.Actor;
using MailCluster.Ops.Access;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Queue.Views;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace MailCluster.Ops.Views;

/// <summary>
/// The cluster-wide queue routes (issue 14), answering from any node (<see cref="ClusterQueues"/>):
/// <list type="bullet">
/// <item><c>GET /api/v1/queues?sort=oldest|pending|deferred|domain&amp;order=asc|desc&amp;limit=50&amp;cursor=...&amp;domain=...</c>
/// (read): every domain queue and bucket with pending and deferred recipients, held messages, the oldest message's age,
/// the last reply, the suspension and the node hosting it. Keyset paging: <c>nextCursor</c> names the next page (null
/// on the last); <c>limit</c> 1–200. Nodes that did not answer in time are named in <c>unanswered_nodes</c>.</item>
/// <item><c>GET /api/v1/messages/{id}</c> (read): envelope, size and header (bounded, <see cref="MessageHeaders"/>) from
/// the spool, and per recipient its state, attempts, last reply and next attempt from every queue holding it; no
/// domain needed. 404 problem when neither the spool nor any queue knows the id.</item>
/// <item><c>POST /api/v1/flush</c> (operate): every deferred recipient of every queue is due now.</item>
/// </list>
/// </summary>
public static class QueueViewApi
{
    public const int DefaultLimit = 50;
    private const int MaxMessageIdLength = 128;
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(10);

    public static IEndpointRouteBuilder MapQueueViewApi(this IEndpointRouteBuilder endpoints, int opsPort, Func<IServiceProvider, IActorRef> region)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(region);
        ClusterQueues Queues(IServiceProvider services) => new(services.GetRequiredService<ActorSystem>(), region(services));
        endpoints.MapGet("/api/v1/queues", (string? sort, string? order, string? limit, string? cursor, string? domain, IServiceProvider services, CancellationToken ct) =>
            SummaryAsync(Queues(services), sort, order, limit, cursor, domain, ct)).RequireOps(opsPort, ApiRole.Read);
        endpoints.MapGet("/api/v1/messages/{id}", (string id, IServiceProvider services, CancellationToken ct) =>
            InspectAsync(Queues(services), services.GetRequiredService<ISpoolStore>(), id, ct)).RequireOps(opsPort, ApiRole.Read);
        endpoints.MapPost("/api/v1/flush", (IServiceProvider services, CancellationToken ct) =>
            FlushAllAsync(Queues(services), region(services), ct)).RequireOps(opsPort, ApiRole.Operate);
        return endpoints;
    }

    /// <summary>A message id as the acceptor makes them, or why the text is not one.</summary>
    public static string? MessageIdProblem(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return id.Length is 0 or > MaxMessageIdLength || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_')
            ? $"'{id}' is not a message id (letters, digits, '-', '.', '_', at most {MaxMessageIdLength})"
            : null;
    }

    /// <summary>The summary's order from the query, or the problem naming the bad parameter.</summary>
    public static (QueueSummaryOrder? Order, string? Problem, string? Field) ParseOrder(string? sort, string? order)
    {
        QueueSort? by = (sort ?? "oldest").ToLowerInvariant() switch
        {
            "oldest" => QueueSort.Oldest,
            "pending" => QueueSort.Pending,
            "deferred" => QueueSort.Deferred,
            "domain" => QueueSort.Domain,
            _ => null,
        };
        if (by is not { } s)
        {
            return (null, $"sort '{sort}' must be one of oldest, pending, deferred, domain", "sort");
        }

        bool? descending = order?.ToLowerInvariant() switch
        {
            null => QueueSummaryOrder.DefaultDescending(s),
            "asc" => false,
            "desc" => true,
            _ => null,
        };
        return descending is { } d ? (new QueueSummaryOrder(s, d), null, null) : (null, $"order '{order}' must be asc or desc", "order");
    }

    private static async Task<IResult> SummaryAsync(
        ClusterQueues queues, string? sort, string? orderText, string? limitText, string? cursorText, string? domainText, CancellationToken ct)
    {
        var (order, problem, field) = ParseOrder(sort, orderText);
        if (order is null)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, problem!, field);
        }

        int limit = DefaultLimit;
        if (limitText is not null && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > QueueViewDirectory.MaxRows))
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, $"limit '{limitText}' must be a whole number from 1 to {QueueViewDirectory.MaxRows}", "limit");
        }

        QueueSummaryCursor? after = null;
        if (!string.IsNullOrEmpty(cursorText) && (after = order.Decode(cursorText)) is null)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, $"cursor '{cursorText}' is not a cursor of this sort and order (take nextCursor of the previous page)", "cursor");
        }

        string? domain = null;
        if (domainText is not null)
        {
            (domain, var bad) = QueueApi.ParseDomain(domainText);
            if (domain is null)
            {
                return ApiProblem.Result(StatusCodes.Status400BadRequest, bad!, "domain");
            }
        }

        var page = await queues.SummarizeAsync(domain, order, after, limit, ct).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        return Results.Json(new QueueSummaryAnswer(
            [.. page.Rows.Select(r => QueueRowView.Of(r, now))],
            page.Total,
            new QueueTotals(page.Pending, page.Deferred, page.Held),
            order.Sort.ToString().ToLowerInvariant(),
            order.Descending ? "desc" : "asc",
            limit,
            page.Next is { } next ? order.Encode(next) : null,
            page.Unanswered));
    }

    private static async Task<IResult> InspectAsync(ClusterQueues queues, ISpoolStore spool, string id, CancellationToken ct)
    {
        if (MessageIdProblem(id) is { } problem)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, problem, "id");
        }

        var bodyTask = spool.ReadAsync(id, ct);
        var (found, unanswered) = await queues.FindAsync(id, ct).ConfigureAwait(false);
        var body = await bodyTask.ConfigureAwait(false);
        if (body.Status == SpoolStatus.Missing && found.Count == 0)
        {
            return unanswered.Count > 0
                ? ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"no queue asked holds message {id}, but {string.Join(", ", unanswered)} did not answer in time")
                : ApiProblem.Result(StatusCodes.Status404NotFound, $"no message {id} is queued or spooled in the cluster", "id");
        }

        var (headers, truncated) = MessageHeaders.Parse(body.Body);
        var first = found.Count > 0 ? found[0] : null;
        var recipients = found.SelectMany(q => q.Recipients.Select(r => new RecipientLine(r.Address, q.Queue, q.Node, r.State, r.Attempts, r.LastReply, r.NextAttemptAt))
            .Concat(q.Reports.Select(r => new RecipientLine(r.Address, q.Queue, q.Node, r.State, r.Attempts, r.LastReply, null)))).ToList();
        return Results.Json(new MessageAnswer(
            id,
            body.Status.ToString().ToLowerInvariant(),
            body.Status == SpoolStatus.Missing ? null : body.Body.Length,
            first?.Sender,
            first?.ArrivedAt,
            [.. found.Select(q => q.Queue)],
            recipients,
            headers,
            truncated,
            unanswered));
    }

    private static async Task<IResult> FlushAllAsync(ClusterQueues queues, IActorRef region, CancellationToken ct)
    {
        int entities = 0, flushed = 0;
        var unanswered = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var page in queues.AllAsync(null, ct).ConfigureAwait(false))
        {
            unanswered.UnionWith(page.Unanswered);
            var acks = await Task.WhenAll(page.Rows.Select(async r =>
            {
                try
                {
                    return await region.Ask<QueueFlushAck>(new FlushMessages(Queue.QueueKey.Parse(r.Queue)), FlushTimeout, ct).ConfigureAwait(false);
                }
                catch (AskTimeoutException)
                {
                    unanswered.Add(r.Queue);
                    return null;
                }
            })).ConfigureAwait(false);
            entities += acks.Count(a => a is not null);
            flushed += acks.Sum(a => a?.Messages ?? 0);
        }

        return Results.Json(new FlushAllAnswer(entities, flushed, [.. unanswered]));
    }
}

public sealed record QueueTotals(int Pending, int Deferred, int Held);

public sealed record QueueSummaryAnswer(
    IReadOnlyList<QueueRowView> Queues,
    int Total,
    QueueTotals Totals,
    string Sort,
    string Order,
    int Limit,
    string? NextCursor,
    [property: JsonPropertyName("unanswered_nodes")] IReadOnlyList<string> UnansweredNodes);

public sealed record SuspensionView(DateTimeOffset Until, string? Reason);

public sealed record QueueRowView(
    string Queue,
    string Domain,
    string? Node,
    int Messages,
    int Pending,
    int Deferred,
    int Held,
    int InFlight,
    DateTimeOffset? OldestArrivedAt,
    double? OldestAgeSeconds,
    string? LastReply,
    SuspensionView? Suspension)
{
    public static QueueRowView Of(QueueSummaryRow row, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new QueueRowView(
            row.Queue,
            row.Domain,
            row.Node,
            row.Messages,
            row.Pending,
            row.Deferred,
            row.Held,
            row.InFlight,
            row.OldestArrivedAt,
            row.OldestArrivedAt is { } at ? Math.Max(0, Math.Round((now - at).TotalSeconds, 1)) : null,
            row.LastReply,
            row.SuspendedUntil is { } until ? new SuspensionView(until, row.SuspensionReason) : null);
    }
}

/// <param name="Spool"><c>committed</c>, <c>uncommitted</c>, or <c>missing</c> (the body is gone: every queue holding
/// the id only has DSN lines left).</param>
public sealed record MessageAnswer(
    string Id,
    string Spool,
    int? Size,
    string? Sender,
    DateTimeOffset? ArrivedAt,
    IReadOnlyList<string> Queues,
    IReadOnlyList<RecipientLine> Recipients,
    IReadOnlyList<HeaderField> Headers,
    bool HeadersTruncated,
    [property: JsonPropertyName("unanswered_nodes")] IReadOnlyList<string> UnansweredNodes);

public sealed record RecipientLine(string Address, string Queue, string? Node, string State, int Attempts, string? LastReply, DateTimeOffset? NextAttemptAt);

public sealed record FlushAllAnswer(
    int Queues,
    int Flushed,
    [property: JsonPropertyName("unanswered_nodes")] IReadOnlyList<string> UnansweredNodes);
