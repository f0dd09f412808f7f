using Akka.Actor;
using MailCluster.Ops.Access;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace MailCluster.Ops;

/// <summary>
/// Hold and release one message (postsuper -h / -H), from any node and without knowing its domain (role
/// <c>operate</c>):
/// <list type="bullet">
/// <item><c>POST /api/v1/messages/{id}/hold</c>: none of its recipients is attempted until released, and the time on
/// hold does not count towards its maximum age. A delivery running now finishes (<c>inFlight</c>).</item>
/// <item><c>POST /api/v1/messages/{id}/release</c>: its recipients are due at their next attempt as scheduled (at
/// once if that has passed).</item>
/// </list>
/// The spool's references name the domains that still hold the message (<see cref="IMessageDomains"/>); every queue of
/// each (the domain, its configured buckets and any bucket running anywhere: <see cref="QueueEntities"/>) is asked, since
/// the bucket is a function of the id and the bucket count when the message arrived. Both are idempotent: a second hold
/// answers 200 with <c>already-on-hold</c>. Answers 200 <c>{"id", "status", "queues": [{"queue", "status",
/// "inFlight"}], "unanswered"}</c>; 400 for a malformed id; 404 when no queue holds the message; 503 when a queue did
/// not answer in time, or none was found and a node did not say which buckets it runs.
/// </summary>
public static class HoldApi
{
    private const int MaxMessageIdLength = 128;
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    /// <param name="region">The domain-queue shard region (or its proxy on edge-only nodes).</param>
    /// <param name="buckets">The hot-domain buckets of the cluster (the same on every node).</param>
    public static IEndpointRouteBuilder MapHoldApi(this IEndpointRouteBuilder endpoints, int opsPort, Func<IServiceProvider, IActorRef> region, DomainBuckets buckets)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(buckets);
        endpoints.MapPost("/api/v1/messages/{id}/hold", (string id, HttpContext context, IServiceProvider services, CancellationToken ct) =>
            HoldOrReleaseAsync(context, services, region(services), buckets, id, hold: true, ct)).RequireOps(opsPort, ApiRole.Operate);
        endpoints.MapPost("/api/v1/messages/{id}/release", (string id, HttpContext context, IServiceProvider services, CancellationToken ct) =>
            HoldOrReleaseAsync(context, services, region(services), buckets, id, hold: false, ct)).RequireOps(opsPort, ApiRole.Operate);
        return endpoints;
    }

    /// <summary>The answer's word for an outcome.</summary>
    public static string Word(HoldOutcome outcome) => outcome switch
    {
        HoldOutcome.OnHold => "on-hold",
        HoldOutcome.AlreadyOnHold => "already-on-hold",
        HoldOutcome.Released => "released",
        HoldOutcome.NotOnHold => "not-on-hold",
        _ => "not-found",
    };

    private static async Task<IResult> HoldOrReleaseAsync(
        HttpContext context, IServiceProvider services, IActorRef region, DomainBuckets buckets, string id, bool hold, CancellationToken ct)
    {
        if (id.Length > MaxMessageIdLength || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, $"'{id}' is not a message id (letters, digits, '-', '.', '_', at most {MaxMessageIdLength})", "id");
        }

        IReadOnlyList<string> domains;
        try
        {
            domains = await services.GetRequiredService<IMessageDomains>().DomainsOfAsync(id, ct).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"the spool cannot be read: {ex.Message}");
        }

        var queues = new QueueEntities(services.GetRequiredService<ActorSystem>(), region, buckets);
        var acks = new List<MessageHoldAck>();
        var unanswered = new List<string>();
        try
        {
            foreach (var domain in domains)
            {
                var (entities, missing) = await queues.OfAsync(domain, ct).ConfigureAwait(false);
                unanswered.AddRange(missing);
                acks.AddRange(await Task.WhenAll(entities.Select(e => region.Ask<MessageHoldAck>(
                    hold ? new HoldMessage(e, id) : new ReleaseMessage(e, id), AskTimeout, ct))).ConfigureAwait(false));
            }
        }
        catch (AskTimeoutException)
        {
            return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"a queue holding message {id} did not answer within {AskTimeout.TotalSeconds:0}s");
        }

        var found = acks.Where(a => a.Outcome != HoldOutcome.NotFound).ToList();
        if (found.Count == 0)
        {
            return unanswered.Count > 0
                ? ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"no queue asked holds message {id}, but {string.Join(", ", unanswered.Distinct())} did not say which buckets it runs")
                : ApiProblem.Result(StatusCodes.Status404NotFound, $"no queue holds message {id}", "id");
        }

        context.Items[ApiAccessMiddleware.AuditTargetKey] = $"message={id} {(hold ? "hold" : "release")} queues={string.Join(",", found.Select(a => a.Domain))}";
        return Results.Json(new
        {
            id,
            status = hold ? "on-hold" : "released",
            queues = found.Select(a => new { queue = a.Domain, status = Word(a.Outcome), inFlight = a.InFlight }),
            unanswered = unanswered.Distinct().ToList(),
        });
    }
}
