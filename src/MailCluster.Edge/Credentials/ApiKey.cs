using MailCluster.Edge.Auth;

namespace MailCluster.Edge.Credentials;

/// <summary>Where a key may be used. A key carries one or both; a key without the scope of a use is refused there.</summary>
[Flags]
public enum ApiKeyScopes
{
    None = 0,

    /// <summary>SMTP AUTH PLAIN or LOGIN: the key id as user name, the secret as password.</summary>
    Smtp = 1,

    /// <summary>The HTTP injection API: <c>Authorization: Bearer &lt;secret&gt;</c>.</summary>
    Http = 2,
}

/// <summary>Parsing and naming of <see cref="ApiKeyScopes"/> as the API spells them ("smtp", "http").</summary>
public static class ApiKeyScopeNames
{
    public static ApiKeyScopes? Parse(string? name) => name switch
    {
        "smtp" => ApiKeyScopes.Smtp,
        "http" => ApiKeyScopes.Http,
        _ => null,
    };

    public static IReadOnlyList<string> Names(ApiKeyScopes scopes) =>
        [.. new[] { (ApiKeyScopes.Smtp, "smtp"), (ApiKeyScopes.Http, "http") }.Where(s => scopes.HasFlag(s.Item1)).Select(s => s.Item2)];
}

/// <summary>
/// An application's API key as every node holds it (never its secret; only <see cref="SecretHash"/>, see
/// <see cref="ApiKeySecrets"/>). Created with <c>POST /api/v1/keys</c>; in force on every node within seconds.
/// </summary>
/// <param name="Id">Public, names the key in listings, logs, quotas and as the SMTP AUTH user name (<c>key_</c> + 16 hex digits).</param>
/// <param name="Senders">Sender addresses (<c>app@example.org</c>, exactly that address) and domains (<c>example.com</c>,
/// any address in it), with the rules of <see cref="SenderAuthorization"/>.</param>
/// <param name="RatePerMinute">Messages in any minute, across the cluster; null: no limit.</param>
/// <param name="DailyQuota">Messages per UTC day, across the cluster; null: no limit.</param>
public sealed record ApiKey(
    string Id,
    string Name,
    string SecretHash,
    IReadOnlyList<string> Senders,
    ApiKeyScopes Scopes,
    int? RatePerMinute,
    int? DailyQuota,
    bool Enabled,
    DateTimeOffset CreatedAt)
{
    /// <summary>The identity an SMTP session holds after AUTH with this key (its senders, its id for quotas).</summary>
    public SmtpUser AsSmtpUser() => new(Id, Senders) { ApiKeyId = Id };

    /// <summary>True when the key may put <paramref name="address"/> (<c>local@domain</c>) in MAIL FROM or an
    /// injection's <c>envelope_sender</c>: a domain entry allows any address at that domain, an address entry exactly
    /// that address (local part case-sensitive). The null sender is never allowed.</summary>
    public bool MaySendAs(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return SenderAuthorization.IsAllowed(AsSmtpUser(), address);
    }

    /// <summary>True when the key carries every scope in <paramref name="scope"/>.</summary>
    public bool Allows(ApiKeyScopes scope) => scope != ApiKeyScopes.None && (Scopes & scope) == scope;

    /// <summary>True when the key limits its sending at all (and so needs the quota gate).</summary>
    public bool IsLimited => RatePerMinute is not null || DailyQuota is not null;
}
