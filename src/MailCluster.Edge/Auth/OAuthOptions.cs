namespace MailCluster.Edge.Auth;

/// <summary>
/// Configuration section <c>MailCluster:Smtp:OAuth</c>: OAuth2 bearer tokens for SMTP AUTH (XOAUTH2, OAUTHBEARER).
/// Unset <see cref="Authority"/>: OAuth is off and neither mechanism is offered. Checked by <see cref="Validate"/>.
/// </summary>
public sealed class OAuthOptions
{
    public const string Section = "MailCluster:Smtp:OAuth";

    /// <summary>The issuer URL; its discovery document is <c>{Authority}/.well-known/openid-configuration</c>
    /// (OpenID Connect Discovery 1.0 §4), whose <c>jwks_uri</c> gives the signing keys.</summary>
    public string? Authority { get; set; }

    /// <summary>The <c>aud</c> a token must carry (RFC 7519 §4.1.3). Required with <see cref="Authority"/>.</summary>
    public string? Audience { get; set; }

    /// <summary>A scope the token must grant, in its <c>scope</c> (RFC 8693 §4.2) or <c>scp</c> claim. Empty: none required.</summary>
    public string? Scope { get; set; }

    /// <summary>The claim that names the user: the SASL user must equal it, and the user may send as it when it is an address.</summary>
    public string UserClaim { get; set; } = "email";

    /// <summary>Refuse discovery and JWKS over plain http. Only for tests and loopback issuers set it false.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool IsEnabled => !string.IsNullOrWhiteSpace(Authority);

    /// <summary>The discovery document's address.</summary>
    public Uri MetadataAddress => new(Authority!.TrimEnd('/') + "/.well-known/openid-configuration");

    /// <summary>Configuration errors, each naming its key in both spellings; empty when usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string field, string problem)
        {
            if (!ok)
            {
                var key = $"{Section}:{field}";
                errors.Add($"{key} (environment: {key.Replace(":", "__", StringComparison.Ordinal)}): {problem}");
            }
        }

        if (!IsEnabled)
        {
            Check(string.IsNullOrWhiteSpace(Audience) && string.IsNullOrWhiteSpace(Scope), "Authority", "is required when Audience or Scope is set");
            return errors;
        }

        var isUrl = Uri.TryCreate(Authority, UriKind.Absolute, out var authority)
            && authority.Scheme is "https" or "http" && string.IsNullOrEmpty(authority.Query) && string.IsNullOrEmpty(authority.Fragment);
        Check(isUrl, "Authority", $"'{Authority}' is not an http(s) URL without query or fragment");
        Check(!isUrl || authority!.Scheme == "https" || !RequireHttpsMetadata, "Authority",
            "must be https (set MailCluster:Smtp:OAuth:RequireHttpsMetadata=false only for a test issuer)");
        Check(!string.IsNullOrWhiteSpace(Audience), "Audience", "is required with an Authority: a token minted for another service must not open SMTP");
        Check(string.IsNullOrEmpty(Scope) || (Scope.Trim() == Scope && !Scope.Any(char.IsWhiteSpace) && !Scope.Contains('"', StringComparison.Ordinal)),
            "Scope", $"'{Scope}' must be one scope token (no spaces or quotes)");
        Check(!string.IsNullOrWhiteSpace(UserClaim) && UserClaim.Trim() == UserClaim, "UserClaim", "must name a claim such as email or preferred_username");
        return errors;
    }
}
