using MailCluster.Api.Requests;

namespace MailCluster.Api.Access;

/// <summary>
/// Who may inject, as whom, and how much: the seam between the injection endpoint and the credential store. The
/// endpoint asks in this order: <see cref="AuthenticateAsync"/> (401, before the body is read),
/// <see cref="InjectionCaller.MaySendAs"/> for the envelope sender and the From address (403),
/// <see cref="ConsumeAsync"/> for the number of messages (429 with Retry-After).
/// </summary>
public interface IInjectionAccess
{
    /// <summary>The caller of an <c>Authorization</c> header value, or why there is none (a 401 detail).</summary>
    ValueTask<(InjectionCaller? Caller, string? Problem)> AuthenticateAsync(string? authorization, CancellationToken cancellationToken);

    /// <summary>Takes <paramref name="messages"/> from the caller's quota; null when allowed, else the refusal.</summary>
    ValueTask<QuotaRefusal?> ConsumeAsync(InjectionCaller caller, int messages, CancellationToken cancellationToken);
}

/// <summary>An authenticated caller. <paramref name="Id"/> scopes idempotency keys and quotas; <paramref name="Name"/> is
/// logged and may appear in the trace field.</summary>
public sealed record InjectionCaller(string Id, string Name, Func<string, bool> MaySendAs);

/// <summary>A quota refusal: its problem and, when waiting helps, how long (the <c>Retry-After</c> header).</summary>
public sealed record QuotaRefusal(RequestProblem Problem, TimeSpan? RetryAfter);
