namespace MailCluster.Outbound.OAuth;

/// <summary>
/// How MailCluster obtains its own OAuth2 access token for XOAUTH2 toward a smarthost (Gmail's and Outlook's
/// submission servers): <c>MailCluster:Outbound:SmarthostOAuth</c> for the default smarthost, or
/// <c>MailCluster:Outbound:Domains:N:OAuth</c> for a domain's route. The SASL user is the route's user name
/// (<c>SmarthostUsername</c> / <c>Domains:N:Username</c>: the mailbox the token was issued for).
/// <para>Grant: <c>refresh_token</c> (RFC 6749 §6) when <see cref="RefreshTokenFile"/> is set, else
/// <c>client_credentials</c> (RFC 6749 §4.4). Secrets are read from files (Kubernetes Secrets mounted as files), at
/// each token request, so a rotated secret is used without a restart.</para>
/// </summary>
public sealed class OAuthClientOptions
{
    /// <summary>The token endpoint URL (https; http only for loopback tests).</summary>
    public string? TokenEndpoint { get; set; }

    public string? ClientId { get; set; }

    /// <summary>A file holding the client secret (surrounding white space ignored). Optional for public clients.</summary>
    public string? ClientSecretFile { get; set; }

    /// <summary>A file holding a refresh token: when set, the refresh-token grant is used.</summary>
    public string? RefreshTokenFile { get; set; }

    /// <summary>Space-separated scopes (Gmail: <c>https://mail.google.com/</c>; Microsoft: <c>https://outlook.office365.com/.default</c>).</summary>
    public string? Scope { get; set; }

    /// <summary>A token is replaced this long before it expires (or at half its lifetime, if that is sooner).</summary>
    public int RefreshBeforeExpirySeconds { get; set; } = 300;

    /// <summary>True when this block is configured at all (binding creates it for any key under it).</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(TokenEndpoint);

    /// <summary>Problems, each naming the key under <paramref name="prefix"/>; empty when usable.</summary>
    public IEnumerable<string> Problems(string prefix, string? username)
    {
        if (!Uri.TryCreate(TokenEndpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
        {
            yield return $"{prefix}:TokenEndpoint must be an https URL (http only on loopback)";
        }

        if (string.IsNullOrWhiteSpace(ClientId))
        {
            yield return $"{prefix}:ClientId is required";
        }

        if (RefreshTokenFile is null && ClientSecretFile is null)
        {
            yield return $"{prefix}: the client credentials grant needs ClientSecretFile (or set RefreshTokenFile for the refresh token grant)";
        }

        if (string.IsNullOrWhiteSpace(username))
        {
            yield return $"{prefix}: XOAUTH2 needs the route's user name (the mailbox of the token)";
        }

        if (RefreshBeforeExpirySeconds < 0)
        {
            yield return $"{prefix}:RefreshBeforeExpirySeconds must not be negative";
        }
    }
}
