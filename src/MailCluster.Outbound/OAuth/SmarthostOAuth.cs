namespace MailCluster.Outbound.OAuth;

/// <summary>
/// Which OAuth2 client, if any, authenticates a destination domain's route, by the rule <see cref="DestinationPolicies"/>
/// applies to user names: a domain entry with its own route (or its own OAuth block) uses its own block; a domain sent
/// through the default smarthost uses <see cref="OutboundOptions.SmarthostOAuth"/>; MX delivery never. One
/// <see cref="OAuthTokenSource"/> per block, so every connection of a route shares its token.
/// </summary>
public sealed class SmarthostOAuth
{
    private readonly OutboundOptions _options;
    private readonly Dictionary<string, DomainOutboundOptions> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<OAuthClientOptions, OAuthTokenSource> _sources = new(ReferenceEqualityComparer.Instance);

    public SmarthostOAuth(OutboundOptions options, HttpClient http, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        foreach (var entry in options.Domains)
        {
            _byName[entry.Name.Trim().TrimEnd('.')] = entry;
            if (entry.OAuth is { IsConfigured: true } block)
            {
                _sources[block] = new OAuthTokenSource(block, http, clock);
            }
        }

        if (options.SmarthostOAuth is { IsConfigured: true } smarthost)
        {
            _sources[smarthost] = new OAuthTokenSource(smarthost, http, clock);
        }
    }

    /// <summary>The token source of <paramref name="domain"/>'s route, or null when it does not use OAuth2.</summary>
    public OAuthTokenSource? For(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        _byName.TryGetValue(domain.TrimEnd('.'), out var entry);
        bool domainRoute = DeliveryRoute.Parse(entry?.Route) is not null;
        var block = domainRoute || entry?.OAuth is { IsConfigured: true } || entry?.Username is not null
            ? entry?.OAuth
            : DeliveryRoute.Parse(_options.Smarthost) is { Kind: RouteKind.Smtp } ? _options.SmarthostOAuth : null;
        return block is { IsConfigured: true } && _sources.TryGetValue(block, out var source) ? source : null;
    }

    /// <summary>Configuration problems of every OAuth block, each naming its key.</summary>
    public static IReadOnlyList<string> Problems(OutboundOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (options.SmarthostOAuth is { } smarthost)
        {
            problems.AddRange(smarthost.Problems($"{OutboundOptions.Section}:SmarthostOAuth", options.SmarthostUsername));
        }

        for (int i = 0; i < options.Domains.Count; i++)
        {
            if (options.Domains[i].OAuth is { } block)
            {
                problems.AddRange(block.Problems($"{OutboundOptions.Section}:Domains:{i}:OAuth", options.Domains[i].Username));
            }
        }

        return problems;
    }
}
