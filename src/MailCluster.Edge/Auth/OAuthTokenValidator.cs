using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace MailCluster.Edge.Auth;

/// <summary>
/// Validates OAuth2 bearer tokens (JWTs) for SMTP AUTH against the issuer of <see cref="OAuthOptions"/>: signature
/// with a key of the issuer's JWKS, issuer, audience, lifetime, the required scope, and that the SASL user equals the
/// token's user claim. One instance serves every session of the node.
/// <para>Keys come from a <see cref="ConfigurationManager{T}"/> over the discovery document: fetched on first use,
/// refreshed every 12 hours, and the last good copy kept when a refresh fails. Key rollover: a token signed with a key
/// id the cached JWKS lacks forces one refetch (at most one per <see cref="ForcedRefreshInterval"/> for the node, so a
/// stream of made-up key ids cannot turn this server into a load generator against the issuer) and is checked again.</para>
/// <para>Every wait is bounded: a metadata request by <see cref="FetchTimeout"/>, a whole validation by twice that.
/// An issuer that cannot be reached, when its keys are needed, makes the verdict <see cref="BearerOutcome.Unavailable"/>
/// (454 4.7.0), never an exception. Nothing here blocks the caller's thread.</para>
/// </summary>
public sealed partial class OAuthTokenValidator : IDisposable
{
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan ForcedRefreshInterval = TimeSpan.FromSeconds(30);

    private readonly OAuthOptions _options;
    private readonly UserDirectory _users;
    private readonly HttpClient _http;
    private readonly ObservedRetriever _retriever = new();
    private readonly ConfigurationManager<OpenIdConnectConfiguration> _keys;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private long _nextForcedRefresh = long.MinValue;

    /// <param name="users">Configured users: one whose name equals the token's user claim may also send as its
    /// <see cref="SmtpUser.AllowedSenders"/>.</param>
    /// <param name="http">The metadata client's handler; null for the default (system trust store).</param>
    /// <param name="logger">Where refusals are explained (the client only learns "invalid_token").</param>
    public OAuthTokenValidator(OAuthOptions options, UserDirectory users, HttpMessageHandler? http = null, TimeProvider? clock = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(users);
        if (!options.IsEnabled)
        {
            throw new ArgumentException("OAuth is not configured (no Authority).", nameof(options));
        }

        _options = options;
        _users = users;
        _clock = clock ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _http = http is null ? new HttpClient() : new HttpClient(http, disposeHandler: false);
        _http.Timeout = FetchTimeout;
        _keys = new ConfigurationManager<OpenIdConnectConfiguration>(
            options.MetadataAddress.AbsoluteUri,
            _retriever,
            new HttpDocumentRetriever(_http) { RequireHttps = options.RequireHttpsMetadata })
        {
            RefreshInterval = ForcedRefreshInterval,
        };
    }

    /// <param name="saslUser">The user the client named, or null (OAUTHBEARER without an authzid).</param>
    public async Task<BearerVerdict> ValidateAsync(string? saslUser, string token, CancellationToken cancellationToken)
    {
        var verdict = await DecideAsync(saslUser, token, cancellationToken).ConfigureAwait(false);
        if (verdict.Outcome == BearerOutcome.Rejected)
        {
            LogRefused(_logger, saslUser ?? "(claim)", verdict.Reason);
        }
        else if (verdict.Outcome == BearerOutcome.Unavailable)
        {
            LogUnavailable(_logger, saslUser ?? "(claim)", _options.Authority, verdict.Reason);
        }

        return verdict;
    }

    public void Dispose() => _http.Dispose();

    private async Task<BearerVerdict> DecideAsync(string? saslUser, string token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(FetchTimeout * 2);
        try
        {
            var configuration = await _keys.GetConfigurationAsync(bounded.Token).WaitAsync(bounded.Token).ConfigureAwait(false);
            var result = await CheckAsync(token, configuration).ConfigureAwait(false);
            if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
            {
                if (!TryClaimForcedRefresh())
                {
                    return BearerVerdict.Reject("unknown signing key (JWKS refetched too recently to try again)");
                }

                if (await RefreshAsync(bounded.Token).ConfigureAwait(false) is not { } refreshed)
                {
                    return BearerVerdict.Unavailable("unknown signing key and the JWKS could not be refetched");
                }

                result = await CheckAsync(token, refreshed).ConfigureAwait(false);
            }

            return result.IsValid ? Claims((JsonWebToken)result.SecurityToken, saslUser) : BearerVerdict.Reject(result.Exception?.GetType().Name ?? "invalid");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return BearerVerdict.Unavailable($"issuer metadata not fetched within {(FetchTimeout * 2).TotalSeconds} s");
        }
        catch (InvalidOperationException ex)
        {
            // ConfigurationManager: no configuration has ever been fetched and this fetch failed (IDX20803).
            return BearerVerdict.Unavailable(ex.InnerException?.Message ?? ex.Message);
        }
    }

    private Task<TokenValidationResult> CheckAsync(string token, OpenIdConnectConfiguration configuration) =>
        _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            // OpenID Connect Discovery §4.3: the document's issuer is the authority it was fetched from.
            ValidIssuer = string.IsNullOrEmpty(configuration.Issuer) ? _options.Authority : configuration.Issuer,
            ValidAudience = _options.Audience,
            IssuerSigningKeys = configuration.SigningKeys,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = TimeSpan.FromMinutes(1),
        });

    /// <summary>Scope, email_verified and the user claim of a token whose signature, issuer, audience and lifetime hold.</summary>
    private BearerVerdict Claims(JsonWebToken jwt, string? saslUser)
    {
        if (!string.IsNullOrEmpty(_options.Scope)
            && !jwt.Claims.Where(c => c.Type is "scope" or "scp").SelectMany(c => c.Value.Split(' ')).Contains(_options.Scope, StringComparer.Ordinal))
        {
            return BearerVerdict.Reject($"scope '{_options.Scope}' not granted", BearerVerdict.InsufficientScope);
        }

        if (!jwt.TryGetPayloadValue<string>(_options.UserClaim, out var claimed) || string.IsNullOrWhiteSpace(claimed))
        {
            return BearerVerdict.Reject($"no '{_options.UserClaim}' claim");
        }

        // An address the issuer itself has not verified names nobody in particular.
        if (_options.UserClaim == "email" && jwt.TryGetPayloadValue<bool>("email_verified", out var verified) && !verified)
        {
            return BearerVerdict.Reject("email_verified is false");
        }

        if (saslUser is not null && !string.Equals(saslUser, claimed, StringComparison.OrdinalIgnoreCase))
        {
            return BearerVerdict.Reject($"SASL user is not the token's '{_options.UserClaim}'");
        }

        var senders = new List<string>();
        if (claimed.IndexOf('@', StringComparison.Ordinal) > 0 && SenderAuthorization.IsValidEntry(claimed))
        {
            senders.Add(claimed);
        }

        if (_users.Find(claimed) is { } configured)
        {
            senders.AddRange(configured.AllowedSenders);
        }

        return BearerVerdict.Accept(new SmtpUser(claimed, senders));
    }

    private bool TryClaimForcedRefresh()
    {
        var now = _clock.GetTimestamp();
        var next = Interlocked.Read(ref _nextForcedRefresh);
        return now >= next
            && Interlocked.CompareExchange(ref _nextForcedRefresh, now + (long)(ForcedRefreshInterval.TotalSeconds * _clock.TimestampFrequency), next) == next;
    }

    /// <summary>Asks the manager for a refetch (it runs in the background) and waits, bounded, for what it fetched: the
    /// new configuration, or null when the fetch failed or took too long. The fetched copy is used directly: the manager
    /// stores it only after the retriever has returned it, so asking the manager at once could still give the old one.</summary>
    private async Task<OpenIdConnectConfiguration?> RefreshAsync(CancellationToken cancellationToken)
    {
        var fetched = _retriever.NextFetch;
        _keys.RequestRefresh();
        try
        {
            return await fetched.WaitAsync(FetchTimeout + TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "OAuth2 token for {SaslUser} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string saslUser, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OAuth2 token for {SaslUser} not checked, issuer {Authority} unavailable: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string saslUser, string? authority, string reason);

    /// <summary>The standard discovery-and-JWKS retriever, handing what each fetch got (null: it failed) to whoever waits for the next.</summary>
    private sealed class ObservedRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        private TaskCompletionSource<OpenIdConnectConfiguration?> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<OpenIdConnectConfiguration?> NextFetch => Volatile.Read(ref _next).Task;

        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            OpenIdConnectConfiguration? fetched = null;
            try
            {
                fetched = await OpenIdConnectConfigurationRetriever.GetAsync(address, retriever, cancel).ConfigureAwait(false);
                return fetched;
            }
            finally
            {
                Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(fetched);
            }
        }
    }
}
