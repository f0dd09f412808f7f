using System.Globalization;
using Akka.Actor;
using MailCluster.Ops.Access;
using MailCluster.Queue;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace MailCluster.Ops;

/// <summary>
/// Queue administration over the ops port (versioned, STYLE habit 9), what <c>postqueue -p</c>, <c>postqueue -f</c>
/// and <c>postsuper -d</c> give a Postfix operator:
/// <list type="bullet">
/// <item><c>GET /api/v1/queues/{domain}?limit=100&amp;offset=0</c>: the messages with a pending recipient, by next
/// attempt, each with its recipients' state, attempts, next attempt and last error. <c>limit</c> 1–1000 (default 100);
/// <c>nextOffset</c> names the next page.</item>
/// <item><c>POST /api/v1/queues/{domain}/flush</c>: every deferred recipient is due now (the destination backoff is
/// lifted once: one probe connection first when the destination was failing).</item>
/// <item><c>DELETE /api/v1/queues/{domain}/messages/{id}</c>: removed without delivery or bounce (persisted).</item>
/// <item><c>POST /api/v1/queues/{domain}/messages/{id}/bounce</c>: every pending recipient fails now; the sender gets
/// the usual DSN (never a null sender).</item>
/// </list>
/// The domain is normalised like every shard key (<see cref="DomainKey"/>); a domain split into buckets is covered
/// bucket by bucket: the unsplit entity (mail queued before the split), the configured <c>domain#0..N-1</c>, and any
/// other bucket of the domain running anywhere in the cluster, such as <c>domain#4..7</c> after N was lowered from 8 to
/// 4 (<see cref="QueueEntities"/>). Nodes that did not say which buckets they run are listed under <c>unanswered</c>.
/// Roles: listing needs <c>read</c>, flush <c>operate</c>, delete and bounce <c>admin</c>. Errors are RFC 7807 problem
/// details (<see cref="ApiProblem"/>). Answers: 400 for a bad domain, id, limit or offset, naming the field; 404 when no queue holds the message; 409 while the
/// message is being delivered; 503 when a queue does not answer in time, or the message was not found and a node did
/// not say which buckets it runs.
/// </summary>
public static class QueueApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    private const int MaxMessageIdLength = 128;
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    /// <param name="region">The domain-queue shard region (or its proxy on edge-only nodes).</param>
    /// <param name="buckets">The hot-domain buckets of the cluster (the same on every node).</param>
    public static IEndpointRouteBuilder MapQueueApi(this IEndpointRouteBuilder endpoints, int opsPort, Func<IServiceProvider, IActorRef> region, DomainBuckets buckets)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(buckets);
        QueueEntities Entities(IServiceProvider services) => new(services.GetRequiredService<ActorSystem>(), region(services), buckets);
        endpoints.MapGet("/api/v1/queues/{domain}", (string domain, string? limit, string? offset, IServiceProvider services, CancellationToken ct) =>
            Guarded(domain, null, key => ListAsync(region(services), Entities(services), key, limit, offset, ct))).RequireOps(opsPort, ApiRole.Read);
        endpoints.MapPost("/api/v1/queues/{domain}/flush", (string domain, IServiceProvider services, CancellationToken ct) =>
            Guarded(domain, null, key => FlushAsync(region(services), Entities(services), key, ct))).RequireOps(opsPort, ApiRole.Operate);
        endpoints.MapDelete("/api/v1/queues/{domain}/messages/{id}", (string domain, string id, IServiceProvider services, CancellationToken ct) =>
            Guarded(domain, id, key => MessageAsync(region(services), Entities(services), key, id, "deleted", e => new DeleteMessage(e, id), ct))).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapPost("/api/v1/queues/{domain}/messages/{id}/bounce", (string domain, string id, IServiceProvider services, CancellationToken ct) =>
            Guarded(domain, id, key => MessageAsync(region(services), Entities(services), key, id, "bounced", e => new BounceMessage(e, id), ct))).RequireOps(opsPort, ApiRole.Admin);
        return endpoints;
    }

    /// <summary>The normalised domain, or why the text is not one. A bucket id (<c>gmail.com#2</c>) is refused: the
    /// API takes the domain and covers all its buckets.</summary>
    public static (string? Domain, string? Problem) ParseDomain(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains(DomainBuckets.Separator, StringComparison.Ordinal))
        {
            return (null, $"'{text}' names a bucket; give the domain (every bucket of it is covered)");
        }

        if (DomainKey.TryNormalize(text) is not { } key)
        {
            return (null, $"'{text}' is not a valid domain name (IDNA conversion failed)");
        }

        if (key[0] == '[')
        {
            return key[^1] == ']' && key.Length > 2 ? (key, null) : (null, $"'{text}' is not a valid address literal");
        }

        if (key.Length > 253)
        {
            return (null, $"'{text}' is longer than 253 characters");
        }

        foreach (var label in key.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return (null, $"'{text}' is not a valid domain name (label '{label}': letters, digits and inner hyphens, 1 to 63 characters)");
            }
        }

        return (key, null);
    }

    private static async Task<IResult> Guarded(string domain, string? id, Func<string, Task<IResult>> action)
    {
        var (key, problem) = ParseDomain(domain);
        if (key is null)
        {
            return Problem(StatusCodes.Status400BadRequest, problem!, "domain");
        }

        if (id is not null && (id.Length > MaxMessageIdLength || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_')))
        {
            return Problem(StatusCodes.Status400BadRequest, $"'{id}' is not a message id (letters, digits, '-', '.', '_', at most {MaxMessageIdLength})", "id");
        }

        try
        {
            return await action(key).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, $"a queue of {key} did not answer within {AskTimeout.TotalSeconds:0}s");
        }
    }

    private static async Task<IResult> ListAsync(IActorRef region, QueueEntities queues, string domain, string? limitText, string? offsetText, CancellationToken ct)
    {
        if (!TryParseBounded(limitText, DefaultLimit, 1, MaxLimit, out int limit))
        {
            return Problem(StatusCodes.Status400BadRequest, $"limit '{limitText}' must be a whole number from 1 to {MaxLimit}", "limit");
        }

        if (!TryParseBounded(offsetText, 0, 0, int.MaxValue, out int offset))
        {
            return Problem(StatusCodes.Status400BadRequest, $"offset '{offsetText}' must be a whole number from 0", "offset");
        }

        // Entities in a fixed order, each listed by next attempt: the offset runs over their concatenation. Every
        // entity is asked at least once, for its total; a page is fetched in entity-sized pieces (each reply bounded).
        var (entities, unanswered) = await queues.OfAsync(domain, ct).ConfigureAwait(false);
        var messages = new List<object>(Math.Min(limit, 1000));
        int total = 0;
        int skip = offset;
        foreach (var entity in entities)
        {
            int from = skip;
            for (bool first = true; ; first = false)
            {
                int want = Math.Max(1, limit - messages.Count);
                var page = await region.Ask<QueueListing>(new ListMessages(entity, from, want), AskTimeout, ct).ConfigureAwait(false);
                if (first)
                {
                    total += page.Total;
                    skip = Math.Max(0, skip - page.Total);
                }

                foreach (var m in page.Messages.Take(limit - messages.Count))
                {
                    messages.Add(new
                    {
                        id = m.MessageId,
                        queue = entity,
                        sender = m.Sender,
                        arrivedAt = m.ArrivedAt,
                        nextAttemptAt = m.NextAttemptAt,
                        recipients = m.Recipients.Select(r => new { address = r.Address, state = r.State, attempts = r.Attempts, nextAttemptAt = r.NextAttemptAt, lastError = r.LastError }),
                    });
                }

                if (page.NextOffset is not { } next || messages.Count >= limit)
                {
                    break;
                }

                from = next;
            }
        }

        int? nextOffset = offset + messages.Count < total ? offset + messages.Count : null;
        return Results.Json(new { domain, queues = entities, unanswered, total, offset, limit, nextOffset, messages });
    }

    private static async Task<IResult> FlushAsync(IActorRef region, QueueEntities queues, string domain, CancellationToken ct)
    {
        var (entities, unanswered) = await queues.OfAsync(domain, ct).ConfigureAwait(false);
        var acks = await Task.WhenAll(entities.Select(e => region.Ask<QueueFlushAck>(new FlushMessages(e), AskTimeout, ct))).ConfigureAwait(false);
        return Results.Json(new { domain, queues = entities, unanswered, flushed = acks.Sum(a => a.Messages) });
    }

    private static async Task<IResult> MessageAsync(
        IActorRef region, QueueEntities queues, string domain, string id, string done, Func<string, IDomainQueueCommand> command, CancellationToken ct)
    {
        // The bucket is a function of the id and the bucket count when the message arrived: mail queued before the
        // domain was split, or before the count changed, lives elsewhere. Ask them all.
        var (entities, unanswered) = await queues.OfAsync(domain, ct).ConfigureAwait(false);
        var acks = await Task.WhenAll(entities.Select(e => region.Ask<MessageAdminAck>(command(e), AskTimeout, ct))).ConfigureAwait(false);
        if (acks.FirstOrDefault(a => a.Outcome == MessageAdminOutcome.Done) is { } ack)
        {
            return Results.Json(new { domain, id, queue = ack.Domain, status = done });
        }

        if (acks.Any(a => a.Outcome == MessageAdminOutcome.InFlight))
        {
            return Problem(StatusCodes.Status409Conflict, $"message {id} is being delivered right now; try again when the attempt has finished", "id");
        }

        return unanswered.Count > 0
            ? Problem(StatusCodes.Status503ServiceUnavailable, $"no queue of {domain} asked holds message {id}, but {string.Join(", ", unanswered)} did not say which buckets of {domain} it runs")
            : Problem(StatusCodes.Status404NotFound, $"the queue of {domain} holds no message {id}", "id");
    }

    private static bool TryParseBounded(string? text, int fallback, int min, int max, out int value)
    {
        if (text is null)
        {
            value = fallback;
            return true;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
    }

    private static IResult Problem(int status, string detail, string? field = null) => ApiProblem.Result(status, detail, field);
}
