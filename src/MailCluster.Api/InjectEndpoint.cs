using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using MailCluster.Api.Access;
using MailCluster.Api.Idempotency;
using MailCluster.Api.Requests;
using MailCluster.Ops.Access;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MailCluster.Api;

/// <summary>
/// <c>POST /api/inject/v1</c>, in the order a request is judged: credentials (401), body size (413), JSON and fields
/// (400/422/413), sender (403), <c>Idempotency-Key</c> (replay, 409 in progress, 422 other body), quota (429 with
/// Retry-After), then <see cref="Injector"/> (200, or 503 naming what was and was not queued). Every refusal is an
/// RFC 7807 problem whose <c>field</c> names the input to blame, and queues nothing.
/// </summary>
public sealed partial class InjectEndpoint(
    IInjectionAccess access, Injector injector, IdempotencyStore? idempotency, ApiOptions options, long maxRequestBytes, ILogger<InjectEndpoint> logger)
{
    public const string Route = "/api/inject/v1";

    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>A request holding a key longer than this without answering is taken to be dead (see <see cref="IdempotencyDecision"/>).</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (caller, denied) = await access.AuthenticateAsync(context.Request.Headers.Authorization, context.RequestAborted).ConfigureAwait(false);
        if (caller is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return ApiProblem.Result(StatusCodes.Status401Unauthorized, denied!, "Authorization");
        }

        try
        {
            var body = await ReadBodyAsync(context.Request, maxRequestBytes, context.RequestAborted).ConfigureAwait(false);
            var request = InjectRequestReader.Read(body, options.MaxRecipients, options.MaxAttachmentBytes);
            if (Forbidden(request, caller) is { } forbidden)
            {
                return forbidden;
            }

            var key = IdempotencyKey(context.Request);
            if (key is null || idempotency is null)
            {
                return await RunAsync(context, request, caller, null).ConfigureAwait(false);
            }

            var hash = Convert.ToHexStringLower(SHA256.HashData(body.Span));
            IdempotencyClaim claim;
            try
            {
                claim = await idempotency.ClaimAsync(caller.Id, key, hash, Lease, TimeSpan.FromHours(options.IdempotencyHours), context.RequestAborted).ConfigureAwait(false);
            }
            catch (DbException ex)
            {
                // Without the record the promise of the key cannot be kept: refuse for now rather than risk a duplicate.
                LogStoreFailed(logger, ex);
                context.Response.Headers.RetryAfter = "5";
                return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, "the idempotency record cannot be read now (database unavailable); nothing was queued, try again later", IdempotencyHeader);
            }

            switch (claim.Verdict)
            {
                case IdempotencyVerdict.Replay:
                    context.Response.Headers["Idempotent-Replayed"] = "true";
                    return Answer(claim.Stored!.Status ?? 200, claim.Stored.Response!);
                case IdempotencyVerdict.Mismatch:
                    return ApiProblem.Result(StatusCodes.Status422UnprocessableEntity, "this Idempotency-Key was used with a different request body", IdempotencyHeader);
                case IdempotencyVerdict.InProgress:
                    return ApiProblem.Result(StatusCodes.Status409Conflict, "a request with this Idempotency-Key is still being processed", IdempotencyHeader);
            }

            var earlier = claim.Stored?.Response is { } partial ? JsonSerializer.Deserialize<InjectResponse>(partial, Json)?.QueueIds : null;
            try
            {
                return await RunAsync(context, request, caller, (key, earlier)).ConfigureAwait(false);
            }
            catch
            {
                await ReleaseAsync(caller.Id, key).ConfigureAwait(false);
                throw;
            }
        }
        catch (RequestProblemException ex)
        {
            return ApiProblem.Result(ex.Problem.Status, ex.Problem.Detail, ex.Problem.Field);
        }
    }

    private async Task<IResult> RunAsync(HttpContext context, InjectRequest request, InjectionCaller caller, (string Key, IReadOnlyList<string?>? Earlier)? idempotent)
    {
        var toQueue = request.Recipients.Count - (idempotent?.Earlier?.Count(id => id is not null) ?? 0);
        if (toQueue > 0 && await access.ConsumeAsync(caller, toQueue, context.RequestAborted).ConfigureAwait(false) is { } refusal)
        {
            if (refusal.RetryAfter is { } wait)
            {
                context.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }

            throw new RequestProblemException(refusal.Problem);
        }

        var protocol = context.Request.IsHttps ? "HTTPS" : "HTTP";
        var response = await injector.InjectAsync(request, caller, context.Connection.RemoteIpAddress?.ToString(), protocol, idempotent?.Earlier, context.RequestAborted).ConfigureAwait(false);
        var json = response.Status == 200
            ? JsonSerializer.Serialize(response, Json)
            : JsonSerializer.Serialize(PartialProblem(response), Json);
        if (idempotent is { } held && idempotency is not null)
        {
            // A 503 is stored as the plain answer: its queue_ids let the retry skip what is queued.
            try
            {
                await idempotency.CompleteAsync(caller.Id, held.Key, response.Status, response.Status == 200 ? json : JsonSerializer.Serialize(response, Json), CancellationToken.None).ConfigureAwait(false);
            }
            catch (DbException ex)
            {
                // The messages are queued and the client gets its answer; the key stays claimed until the lease ends,
                // after which a retry may queue them again (the at-least-once case of IdempotencyDecision).
                LogStoreFailed(logger, ex);
            }
        }

        if (response.Status != 200)
        {
            LogPartial(logger, caller.Name, response.FailCount, request.Recipients.Count);
        }

        return Answer(response.Status, json);
    }

    /// <summary>A 503 as a problem that also carries the per-recipient answer.</summary>
    private static Dictionary<string, object?> PartialProblem(InjectResponse response) => new()
    {
        ["type"] = "about:blank",
        ["title"] = "Service Unavailable",
        ["status"] = 503,
        ["detail"] = $"{response.FailCount} of {response.SuccessCount + response.FailCount} messages could not be made durable; the others are queued",
        ["field"] = "recipients",
        ["success_count"] = response.SuccessCount,
        ["fail_count"] = response.FailCount,
        ["failed_recipients"] = response.FailedRecipients,
        ["errors"] = response.Errors,
        ["queue_ids"] = response.QueueIds,
    };

    private static IResult Answer(int status, string json) =>
        Results.Content(json, status == 200 ? "application/json" : "application/problem+json", statusCode: status);

    private static IResult? Forbidden(InjectRequest request, InjectionCaller caller)
    {
        if (!caller.MaySendAs(request.EnvelopeSender))
        {
            return ApiProblem.Result(StatusCodes.Status403Forbidden, $"this key may not send as '{request.EnvelopeSender}' (an empty envelope_sender, the null sender, is never allowed to a key)", "envelope_sender");
        }

        return request.Content is BuiltContent { From: { } from } && !caller.MaySendAs(from.Email)
            ? ApiProblem.Result(StatusCodes.Status403Forbidden, $"this key may not send as '{from.Email}'", "content.from")
            : null;
    }

    /// <summary>The header's value: 1-255 printable ASCII characters (as Stripe's and the IETF draft's keys are).</summary>
    private static string? IdempotencyKey(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(IdempotencyHeader, out var values))
        {
            return null;
        }

        var key = values.Count == 1 ? values[0] : null;
        return key is { Length: > 0 and <= 255 } && key.All(c => c is > ' ' and <= '~')
            ? key
            : throw new RequestProblemException(new RequestProblem(400, "must be one value of 1-255 printable ASCII characters", IdempotencyHeader));
    }

    /// <summary>The body, refused with 413 past <paramref name="limit"/> without buffering more than the limit.</summary>
    internal static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        using var buffer = new MemoryStream(request.ContentLength is { } length and > 0 ? (int)length : 4096);
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw TooLarge(limit);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static RequestProblemException TooLarge(long limit) =>
        new(new RequestProblem(StatusCodes.Status413PayloadTooLarge, $"the request body is larger than the limit of {limit} bytes (MailCluster:Api:MaxRequestBytes)", "body"));

    private async Task ReleaseAsync(string caller, string key)
    {
        try
        {
            await idempotency!.ReleaseAsync(caller, key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (DbException ex)
        {
            LogStoreFailed(logger, ex); // the claim then lapses with its lease
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idempotency store unavailable")]
    private static partial void LogStoreFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Injection by {Caller}: {Failed} of {Total} messages not durable; answered 503")]
    private static partial void LogPartial(ILogger logger, string caller, int failed, int total);
}
