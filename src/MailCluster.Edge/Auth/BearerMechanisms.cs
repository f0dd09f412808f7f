using MailCluster.Smtp;

namespace MailCluster.Edge.Auth;

/// <summary>
/// The two OAuth2 SASL mechanisms: one client message carrying a bearer token (as the AUTH initial response or after
/// an empty "334 " challenge), UTF-8, with key=value pairs each ended by %x01 and the message ended by one more %x01.
/// They only parse; <see cref="SaslBearerToken"/> leaves validating the token to the session. A message that breaks the
/// grammar is 501 5.5.2 (<see cref="SaslReplies.Malformed"/>), never an exception.
/// </summary>
public abstract class BearerMechanism : SingleMessageMechanism
{
    private const char Separator = '\u0001';

    /// <summary>The message split at %x01: the parts before the final empty pair (which must be there, and the only
    /// empty parts). Null when the message is not so terminated.</summary>
    private protected static string[]? SplitParts(string message)
    {
        var parts = message.Split(Separator);
        return parts.Length >= 3 && parts[^1].Length == 0 && parts[^2].Length == 0 && parts[..^2].All(p => p.Length > 0)
            ? parts[..^2]
            : null;
    }

    /// <summary>
    /// The key=value pairs (RFC 7628 §3.1: <c>key = 1*(ALPHA)</c>, keys compared case-sensitively); unknown keys are
    /// ignored, a repeated key is malformed. Returns the "user" and "auth" values when present.
    /// </summary>
    private protected static bool TryReadPairs(ReadOnlySpan<string> pairs, out string? user, out string? auth)
    {
        user = null;
        auth = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !pair[..eq].All(char.IsAsciiLetter) || !seen.Add(pair[..eq]))
            {
                return false;
            }

            var value = pair[(eq + 1)..];
            if (value.Any(c => char.IsControl(c) && c is not ('\t' or '\r' or '\n')))
            {
                return false;
            }

            switch (pair[..eq])
            {
                case "user": user = value; break;
                case "auth": auth = value; break;
            }
        }

        return true;
    }

    /// <summary>RFC 6750 §2.1: <c>"Bearer" 1*SP b64token</c>, the scheme case-insensitive. The token, or null.</summary>
    private protected static string? BearerToken(string? auth)
    {
        const string Scheme = "Bearer ";
        if (auth is null || !auth.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = auth[Scheme.Length..].TrimStart(' ');
        var padding = token.Length - token.TrimEnd('=').Length;
        var body = token[..^padding];
        return body.Length > 0 && body.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/')
            ? token
            : null;
    }
}

/// <summary>
/// XOAUTH2 as Google and Microsoft define it for SMTP: <c>"user=" user %x01 "auth=Bearer " token %x01 %x01</c>.
/// The user is required (it is what the token's user claim must equal).
/// </summary>
public sealed class XOAuth2Mechanism : BearerMechanism
{
    public override string Name => "XOAUTH2";

    private protected override SaslStep Parse(string message) =>
        SplitParts(message) is { } parts
        && TryReadPairs(parts, out var user, out var auth)
        && !string.IsNullOrEmpty(user)
        && BearerToken(auth) is { } token
            ? new SaslBearerToken(BearerDialect.XOAuth2, user, token)
            : new SaslFailure(SaslReplies.Malformed);
}

/// <summary>
/// OAUTHBEARER (RFC 7628 §3.1): <c>gs2-header %x01 *(key "=" value %x01) %x01</c>, where the GS2 header (RFC 5801 §4)
/// is <c>("n" / "y") "," ["a=" saslname] ","</c>, saslname escaping "," as "=2C" and "=" as "=3D". Channel binding
/// (<c>p=</c>) is not offered (no -PLUS variant), so a client that demands it fails with 535 5.7.8 (RFC 5801 §5).
/// The authorization identity is optional; without it the token's user claim names the user.
/// </summary>
public sealed class OAuthBearerMechanism : BearerMechanism
{
    public override string Name => "OAUTHBEARER";

    private protected override SaslStep Parse(string message)
    {
        if (SplitParts(message) is not [var gs2, .. var pairs] || !TryReadPairs(pairs, out _, out var auth))
        {
            return new SaslFailure(SaslReplies.Malformed);
        }

        if (gs2.StartsWith("p=", StringComparison.Ordinal))
        {
            return new SaslFailure(SmtpReplies.AuthFailed);
        }

        if (gs2.Split(',') is not [("n" or "y"), var authzid, ""]
            || !(authzid.Length == 0 || authzid.StartsWith("a=", StringComparison.Ordinal))
            || DecodeSaslName(authzid.Length == 0 ? string.Empty : authzid[2..]) is not { } user
            || BearerToken(auth) is not { } token)
        {
            return new SaslFailure(SaslReplies.Malformed);
        }

        return new SaslBearerToken(BearerDialect.OAuthBearer, user.Length == 0 ? null : user, token);
    }

    /// <summary>RFC 5801 §4 saslname: "=2C" is ",", "=3D" is "=", any other "=" is malformed (null).</summary>
    private static string? DecodeSaslName(string name)
    {
        var decoded = new System.Text.StringBuilder(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] != '=')
            {
                decoded.Append(name[i]);
            }
            else if (i + 2 < name.Length && name.AsSpan(i + 1, 2) is "2C" or "3D")
            {
                decoded.Append(name[i + 1] == '2' ? ',' : '=');
                i += 2;
            }
            else
            {
                return null;
            }
        }

        return decoded.ToString();
    }
}
