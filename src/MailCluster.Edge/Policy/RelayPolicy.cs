using System.Net;
using MailCluster.Queue;

namespace MailCluster.Edge.Policy;

public enum RecipientVerdict
{
    Accept,
    RelayDenied,
}

/// <summary>
/// Who may send to whom (RFC 5321 §3.6 relaying, RFC 5068 §3): mail for local and relay domains is
/// accepted from anyone; mail for any other domain only from a trusted network (or, later, an
/// authenticated session). Pure: a function of the configuration, the client and the recipient domain.
/// </summary>
public sealed class RelayPolicy
{
    private readonly HashSet<string> _acceptedDomains;
    private readonly IReadOnlyList<IpNetwork> _trusted;

    public RelayPolicy(DomainsOptions domains, SmtpOptions smtp)
    {
        ArgumentNullException.ThrowIfNull(domains);
        ArgumentNullException.ThrowIfNull(smtp);
        _acceptedDomains = domains.Local.Concat(domains.Relay).Select(DomainKey.Normalize).ToHashSet(StringComparer.Ordinal);
        _trusted = smtp.TrustedNetworks
            .Select(n => IpNetwork.TryParse(n, out var net) ? net! : throw new ArgumentException($"'{n}' is not a CIDR network", nameof(smtp)))
            .ToList();
    }

    public bool IsTrusted(IPAddress? client) => client is not null && _trusted.Any(n => n.Contains(client));

    public bool IsAcceptedDomain(string normalizedDomain) => _acceptedDomains.Contains(normalizedDomain);

    public RecipientVerdict CheckRecipient(string normalizedDomain, IPAddress? client, bool authenticated) =>
        IsAcceptedDomain(normalizedDomain) || authenticated || IsTrusted(client)
            ? RecipientVerdict.Accept
            : RecipientVerdict.RelayDenied;
}
