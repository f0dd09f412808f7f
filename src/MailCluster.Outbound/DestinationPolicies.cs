using MailCluster.Queue.Delivery;

namespace MailCluster.Outbound;

/// <summary>Everything decided per destination domain before connecting.</summary>
/// <param name="Username">AUTH user for a smarthost route; null for none.</param>
public sealed record DestinationPolicy(DeliveryRoute Route, TlsPolicy Tls, string? Username, string? Password, DomainShaping Shaping)
{
    /// <summary>True when the operator gave this domain its own TLS policy, which wins over a published MTA-STS
    /// policy (an explicit local decision, as Postfix's per-destination smtp_tls_policy_maps win over the resolver).</summary>
    public bool TlsFromDomainEntry { get; init; }
}

/// <summary>Resolves <see cref="OutboundOptions.Domains"/> entries over the global defaults; pure.</summary>
public sealed class DestinationPolicies
{
    private readonly OutboundOptions _options;
    private readonly Dictionary<string, DomainOutboundOptions> _byName;

    public DestinationPolicies(OutboundOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _byName = new Dictionary<string, DomainOutboundOptions>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in options.Domains)
        {
            _byName[entry.Name.Trim().TrimEnd('.')] = entry;
        }
    }

    /// <summary>
    /// A domain entry wins over <see cref="OutboundOptions.Smarthost"/>, which wins over MX. The TLS policy and
    /// AUTH of a domain entry apply to its route; the global ones to the default smarthost.
    /// </summary>
    public DestinationPolicy For(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        _byName.TryGetValue(domain.TrimEnd('.'), out var entry);
        var route = DeliveryRoute.Parse(entry?.Route) ?? DeliveryRoute.Parse(_options.Smarthost) ?? DeliveryRoute.Mx;
        bool domainRoute = DeliveryRoute.Parse(entry?.Route) is not null;
        var tlsMode = TlsPolicy.ParseMode(entry?.TlsPolicy) ?? TlsPolicy.ParseMode(_options.TlsPolicy) ?? TlsMode.Opportunistic;
        var source = entry?.TlsPolicy is not null || !string.Equals(_options.TlsPolicy, "opportunistic", StringComparison.OrdinalIgnoreCase)
            ? TlsPolicySource.Configuration
            : TlsPolicySource.Default;
        var shaping = new DomainShaping(
            entry?.MaxConnections ?? _options.MaxConnectionsPerDomain,
            entry?.MessagesPerConnection ?? _options.MessagesPerConnection,
            (entry?.RatePerMinute ?? _options.RatePerMinute) is > 0 and var rate ? rate : null,
            TimeSpan.FromSeconds(_options.ConnectionIdleSeconds));
        var (user, password) = domainRoute || entry?.Username is not null
            ? (entry?.Username, entry?.Password)
            : route.Kind == RouteKind.Mx ? (null, null) : (_options.SmarthostUsername, _options.SmarthostPassword);
        return new DestinationPolicy(route, new TlsPolicy(tlsMode, source, []), user, password, shaping)
        {
            TlsFromDomainEntry = entry?.TlsPolicy is not null,
        };
    }

    /// <summary>Names of invalid entries, for start-up validation (an empty list when all are valid).</summary>
    public static IReadOnlyList<string> Problems(OutboundOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (TlsPolicy.ParseMode(options.TlsPolicy) is null)
        {
            problems.Add($"{OutboundOptions.Section}:TlsPolicy must be none, opportunistic, required or verify");
        }

        if (options.MtaStsHttpsPort is < 1 or > 65535 || options.MtaStsFetchTimeoutSeconds < 1)
        {
            problems.Add($"{OutboundOptions.Section}:MtaStsHttpsPort must be 1-65535 and MtaStsFetchTimeoutSeconds positive");
        }

        if (!string.IsNullOrWhiteSpace(options.CaCertificatesPath) && !File.Exists(options.CaCertificatesPath))
        {
            problems.Add($"{OutboundOptions.Section}:CaCertificatesPath: no file {options.CaCertificatesPath}");
        }

        if (options.Smarthost is not null && DeliveryRoute.Parse(options.Smarthost) is not { Kind: not RouteKind.Mx })
        {
            problems.Add($"{OutboundOptions.Section}:Smarthost must be smtp:host:port or lmtp:host:port");
        }

        for (int i = 0; i < options.Domains.Count; i++)
        {
            var d = options.Domains[i];
            string key = $"{OutboundOptions.Section}:Domains:{i}";
            if (string.IsNullOrWhiteSpace(d.Name))
            {
                problems.Add($"{key}:Name is required");
            }

            if (d.Route is not null && DeliveryRoute.Parse(d.Route) is null)
            {
                problems.Add($"{key}:Route must be mx, smtp:host:port or lmtp:host:port");
            }

            if (d.TlsPolicy is not null && TlsPolicy.ParseMode(d.TlsPolicy) is null)
            {
                problems.Add($"{key}:TlsPolicy must be none, opportunistic, required or verify");
            }

            if (d.MaxConnections is < 1 || d.MessagesPerConnection is < 1 || d.RatePerMinute is < 0)
            {
                problems.Add($"{key}: MaxConnections and MessagesPerConnection must be positive, RatePerMinute not negative");
            }
        }

        return problems;
    }
}
