using MailCluster.Api.Requests;
using MailCluster.Edge.Credentials;

namespace MailCluster.Api.Access;

/// <summary>
/// API keys (issue 20, <c>POST /api/v1/keys</c>) on the injection listener: <c>Authorization: Bearer &lt;secret&gt;</c>
/// of an enabled key with scope <c>http</c>; the key's senders; its rate and daily quota, counted cluster-wide by the
/// quota gate. An unknown, wrong, disabled or out-of-scope key gets the same 401 (no difference is told).
/// </summary>
public sealed class ApiKeyAccess(IApiKeyVerifier keys, IQuotaGate quotas) : IInjectionAccess
{
    public async ValueTask<(InjectionCaller? Caller, string? Problem)> AuthenticateAsync(string? authorization, CancellationToken cancellationToken)
    {
        const string scheme = "Bearer ";
        if (string.IsNullOrEmpty(authorization))
        {
            return (null, "an 'Authorization: Bearer <key secret>' header is required");
        }

        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || authorization.Length == scheme.Length)
        {
            return (null, "the Authorization header must be 'Bearer <key secret>'");
        }

        var key = await keys.VerifyAsync(authorization[scheme.Length..].Trim(), ApiKeyScopes.Http, cancellationToken: cancellationToken).ConfigureAwait(false);
        return key is null
            ? (null, "the key is unknown, disabled or not allowed on the HTTP API (scope http)")
            : (new InjectionCaller(key.Id, key.Name, key.MaySendAs), null);
    }

    public async ValueTask<QuotaRefusal?> ConsumeAsync(InjectionCaller caller, int messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var decision = await quotas.TryConsumeAsync(caller.Id, messages, cancellationToken).ConfigureAwait(false);
        return decision.Outcome switch
        {
            QuotaOutcome.Allowed => null,
            QuotaOutcome.RateLimited or QuotaOutcome.DailyQuotaExhausted =>
                new QuotaRefusal(new RequestProblem(429, $"over the key's quota: {decision.Reason}", "Authorization"), decision.RetryAfter),
            QuotaOutcome.TooLarge =>
                new QuotaRefusal(RequestProblem.Invalid("recipients", $"{messages} messages can never pass the key's quota: {decision.Reason}"), null),
            QuotaOutcome.UnknownKey => new QuotaRefusal(new RequestProblem(401, "the key no longer exists", "Authorization"), null),
            _ => new QuotaRefusal(new RequestProblem(503, $"the key's quota counter is unavailable: {decision.Reason}; try again shortly", "Authorization"), TimeSpan.FromSeconds(1)),
        };
    }
}
