using System.Text;
using System.Text.Json;

namespace MailCluster.Edge.Auth;

public enum BearerOutcome
{
    /// <summary>The token is valid and names the user: 235.</summary>
    Accepted,

    /// <summary>The token is not good enough (signature, issuer, audience, lifetime, scope, user): the error challenge,
    /// then 535 5.7.8. Counted as a failed AUTH.</summary>
    Rejected,

    /// <summary>The token could not be checked (issuer or JWKS unreachable, too slow): 454 4.7.0. Not counted.</summary>
    Unavailable,
}

/// <summary>What <see cref="OAuthTokenValidator"/> decided. <paramref name="Status"/> is the RFC 6750 §3.1 error code
/// of a rejection (<c>invalid_token</c> or <c>insufficient_scope</c>); <paramref name="Reason"/> is for the log only.</summary>
public sealed record BearerVerdict(BearerOutcome Outcome, SmtpUser? User, string Status, string Reason)
{
    public static BearerVerdict Accept(SmtpUser user) => new(BearerOutcome.Accepted, user, string.Empty, "valid");

    public static BearerVerdict Reject(string reason, string status = InvalidToken) => new(BearerOutcome.Rejected, null, status, reason);

    public static BearerVerdict Unavailable(string reason) => new(BearerOutcome.Unavailable, null, string.Empty, reason);

    public const string InvalidToken = "invalid_token";

    public const string InsufficientScope = "insufficient_scope";
}

/// <summary>
/// The error challenge sent after a rejected token, before the final 535 5.7.8: base64 of a JSON object.
/// OAUTHBEARER: RFC 7628 §3.2.2, <c>{"status":"invalid_token","schemes":"bearer","scope":"..."}</c> (the client answers
/// with a lone %x01). XOAUTH2: Google's shape, the status an HTTP code (<c>"401"</c>, <c>"403"</c> for a missing scope;
/// the client answers with an empty line). "scope" appears only when a scope is configured.
/// </summary>
public static class BearerChallenge
{
    public static string For(BearerDialect dialect, string status, string? scope)
    {
        ArgumentNullException.ThrowIfNull(status);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", dialect == BearerDialect.OAuthBearer ? status : HttpStatus(status));
            json.WriteString("schemes", "bearer");
            if (!string.IsNullOrEmpty(scope))
            {
                json.WriteString("scope", scope);
            }

            json.WriteEndObject();
        }

        return Convert.ToBase64String(buffer.ToArray());
    }

    /// <summary>The challenge decoded, for tests and logs.</summary>
    public static string Decode(string challenge) => Encoding.UTF8.GetString(Convert.FromBase64String(challenge));

    private static string HttpStatus(string status) => status == BearerVerdict.InsufficientScope ? "403" : "401";
}
