using MailCluster.Queue.Delivery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailCluster.Outbound;

/// <summary>
/// Connects to a recipient domain's next hop: its route (<see cref="DestinationPolicies"/>: MX, smarthost or LMTP),
/// then each host and each usable address in order until one session opens (RFC 5321 §5.1). Connection-level
/// failures (refused, timeout, TLS, greeting/EHLO refused) move on to the next address; when every one fails, the
/// failure says so (<see cref="ConnectFailure.EveryHostUnreachable"/>) and the domain queue backs the destination off.
/// Never throws except on cancellation (see <see cref="IDeliveryConnector"/>).
/// </summary>
public sealed partial class NextHopConnector : IDeliveryConnector
{
    /// <summary>For token endpoints: one client for the process (connection pooling, DNS refresh by the handler).</summary>
    private static readonly HttpClient TokenHttp = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });

    private readonly MxResolver _resolver;
    private readonly OutboundOptions _options;
    private readonly DestinationPolicies _policies;
    private readonly ILogger<NextHopConnector> _logger;
    private readonly OAuth.SmarthostOAuth _oauth;
    private readonly TransportSecurity _security;

    public NextHopConnector(MxResolver resolver, IOptions<OutboundOptions> options, ILogger<NextHopConnector> logger)
        : this(resolver, options, logger, TransportSecurity.None)
    {
    }

    public NextHopConnector(MxResolver resolver, IOptions<OutboundOptions> options, ILogger<NextHopConnector> logger, TransportSecurity security)
    {
        ArgumentNullException.ThrowIfNull(security);
        _security = security;
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _resolver = resolver;
        _options = options.Value;
        _policies = new DestinationPolicies(_options);
        _logger = logger;
        _oauth = new OAuth.SmarthostOAuth(_options, TokenHttp, TimeProvider.System);
    }

    public DomainShaping ShapingFor(string domain) => _policies.For(domain).Shaping;

    public async Task<ConnectResult> ConnectAsync(string domain, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(domain);
        var policy = _policies.For(domain);
        var route = policy.Route;
        MxResolution resolution;
        try
        {
            resolution = route.Kind == RouteKind.Mx
                ? await _resolver.ResolveAsync(domain, cancellationToken).ConfigureAwait(false)
                : await _resolver.ResolveHostAsync(route.Host!, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // E.g. a domain DnsClient refuses to encode. The contract says only cancellation escapes.
            resolution = MxResolution.Transient("4.4.3", $"lookup for {domain} failed: {e.Message}");
        }

        if (resolution.Kind != MxResolutionKind.Ok)
        {
            LogResolutionFailed(domain, resolution.Text);
            var kind = resolution.Kind == MxResolutionKind.Permanent ? OutcomeKind.Permanent : OutcomeKind.Transient;
            return ConnectResult.Failed(new ConnectFailure(kind, resolution.Code, resolution.EnhancedCode, resolution.Text, null, false));
        }

        // XOAUTH2 with the route's own token: obtained before connecting, since a session without it could send nothing.
        // A token endpoint that fails is a transient failure of this attempt (retried), not of the destination's hosts.
        OAuth.OAuthAccessToken? token = null;
        if (_oauth.For(domain) is { } tokens)
        {
            try
            {
                token = await tokens.GetAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OAuth.OAuthTokenException e)
            {
                LogTokenFailed(domain, e.Message);
                return ConnectResult.Failed(new ConnectFailure(OutcomeKind.Transient, 451, "4.7.0", $"no OAuth2 token for {domain}'s route: {e.Message}", null, false));
            }
        }

        var dane = await DaneVerdictsAsync(domain, policy, resolution, cancellationToken).ConfigureAwait(false);
        if (dane is null)
        {
            var secured = await ApplyMtaStsAsync(domain, policy, resolution, cancellationToken).ConfigureAwait(false);
            if (secured.Failure is not null)
            {
                return ConnectResult.Failed(secured.Failure);
            }

            policy = secured.Policy;
            resolution = secured.Resolution;
        }
        else
        {
            policy = policy with { Tls = policy.Tls with { Trust = _security.Trust } };
        }

        // An operator-configured relay may be private; an address published in DNS by the recipient domain may not.
        bool allowPrivate = _options.AllowPrivateDestinations || route.Kind != RouteKind.Mx;
        int port = route.Kind == RouteKind.Mx ? _options.Port : route.Port;
        OpenResult? last = null;
        int tried = 0;
        bool daneFailed = false;
        foreach (var target in resolution.Targets)
        {
            var tls = policy.Tls;
            if (dane is not null && dane.TryGetValue(target.Host, out var verdict))
            {
                if (DaneTls(policy.Tls, verdict) is not { } hostTls)
                {
                    // RFC 7672 §2.1.1: an indeterminate or bogus answer could be an attack; this host waits.
                    RecordDaneDeferral(domain, target.Host, verdict);
                    last = DaneDeferred(target.Host, verdict);
                    daneFailed = true;
                    LogAttemptFailed(domain, last.Remote, last.Error);
                    continue;
                }

                tls = hostTls;
            }

            foreach (var address in AddressPolicy.Select(target.Addresses, _options.AddressPreference, allowPrivate))
            {
                cancellationToken.ThrowIfCancellationRequested();
                tried++;
                var open = route.Kind == RouteKind.Lmtp
                    ? await LmtpClientConnection.OpenAsync(_options, target.Host, address, port, cancellationToken).ConfigureAwait(false)
                    : await SmtpClientConnection.OpenAsync(_options, tls, target.Host, address, port, policy.Username, policy.Password, token, cancellationToken)
                        .ConfigureAwait(false);
                if (open.TlsHandshakeFailed && tls.AfterHandshakeFailure is { } clear && policy.Username is null && token is null)
                {
                    // Same MX, same address, a fresh session that does not attempt STARTTLS. Never with credentials
                    // (a password or an OAuth2 token): a failed handshake may be an attacker's doing, and AUTH in clear
                    // would hand them the secret.
                    LogClearTextFallback(domain, open.Remote, open.Error);
                    open = await SmtpClientConnection.OpenAsync(_options, clear, target.Host, address, port, policy.Username, policy.Password, token, cancellationToken)
                        .ConfigureAwait(false);
                }

                RecordSession(domain, tls, target.Host, address, open);
                if (open.Connection is not null)
                {
                    return ConnectResult.Opened(open.Connection);
                }

                daneFailed |= tls.Source == TlsPolicySource.Dane && IsTlsFailure(open);
                last = open;
                LogAttemptFailed(domain, last.Remote, last.Error);
            }
        }

        if (tried == 0 && !daneFailed)
        {
            string hosts = string.Join(", ", resolution.Targets.Select(t => $"{t.Host}[{string.Join(' ', t.Addresses)}]"));
            return ConnectResult.Failed(new ConnectFailure(OutcomeKind.Permanent, 554, "5.4.4",
                $"no usable address for {domain}: {hosts} (private or loopback addresses are refused unless {OutboundOptions.Section}:AllowPrivateDestinations)",
                null, false));
        }

        // RFC 3463: X.4.1 "no answer from host" when nothing connected, X.4.2 "bad connection" when one dropped.
        string enhanced = last?.Connected == true ? "4.4.2" : "4.4.1";
        string text = $"delivery to {domain} failed at every host; last error: {last?.Error}";
        if (daneFailed)
        {
            // RFC 7672 §2.2: a host whose DANE policy cannot be met (or its TLSA lookup failed) gets nothing in clear.
            enhanced = "4.7.5";
            text = $"DANE policy of {domain} not met at any MX host; last error: {last?.Error}";
        }
        else if (policy.Tls.Source == TlsPolicySource.MtaSts && last is { } tlsFailure && IsTlsFailure(tlsFailure))
        {
            // RFC 8461 §5: a message under an enforced policy waits; X.7.5 "cryptographic failure" (RFC 3463) says why.
            enhanced = "4.7.5";
            text = $"MTA-STS policy of {domain} (enforce) not met at any MX host; last error: {last.Error}";
        }

        return ConnectResult.Failed(new ConnectFailure(OutcomeKind.Transient, 0, enhanced, text, last?.Connected == true ? last.Remote : null, true));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "OAuth2 token for the route of {Domain} not obtained: {Reason}")]
    private partial void LogTokenFailed(string domain, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Resolving {Domain} failed: {Reason}")]
    private partial void LogResolutionFailed(string domain, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "STARTTLS with {Remote} for {Domain} failed ({Reason}); retrying in clear text (opportunistic TLS)")]
    private partial void LogClearTextFallback(string domain, string remote, string? reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection for {Domain} via {Remote} failed: {Reason}")]
    private partial void LogAttemptFailed(string domain, string remote, string? reason);
}
