using MailCluster.Ops.Access;

namespace MailCluster.Api.Access;

/// <summary>
/// Interim access until API keys exist (issue 20, engineer "keys"): an ops bearer token of role <c>operate</c> or
/// above may inject as any sender, without a quota. It is the credential an operator already holds, so the listener
/// is usable and tested end to end; API keys (scope <c>http</c>, senders, quotas) replace it behind the same interface.
/// </summary>
public sealed class OpsTokenAccess(TokenSet tokens) : IInjectionAccess
{
    public ValueTask<(InjectionCaller? Caller, string? Problem)> AuthenticateAsync(string? authorization, CancellationToken cancellationToken)
    {
        const string scheme = "Bearer ";
        if (string.IsNullOrEmpty(authorization))
        {
            return new((null, "an 'Authorization: Bearer <key>' header is required"));
        }

        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || authorization.Length == scheme.Length)
        {
            return new((null, "the Authorization header must be 'Bearer <key>'"));
        }

        var identity = tokens.Find(authorization[scheme.Length..].Trim());
        if (identity is null || identity.Role < ApiRole.Operate)
        {
            return new((null, "the key is unknown, disabled or may not inject"));
        }

        return new((new InjectionCaller("token:" + identity.Id, identity.Name, _ => true), null));
    }

    public ValueTask<TimeSpan?> ConsumeAsync(InjectionCaller caller, int messages, CancellationToken cancellationToken) => new((TimeSpan?)null);
}
