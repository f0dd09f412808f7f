namespace MailCluster.Outbound;

/// <summary>Configuration section <c>MailCluster:Outbound</c>.</summary>
public sealed class OutboundOptions
{
    public const string Section = "MailCluster:Outbound";

    /// <summary>TCP port outbound delivery connects to on every MX host (25; tests point it at their sink).</summary>
    public int Port { get; set; } = 25;

    /// <summary>Name sent in EHLO; defaults to the node's hostname (MailCluster:Hostname).</summary>
    public string? HeloName { get; set; }

    public int ConnectTimeoutSeconds { get; set; } = 30;

    /// <summary>Timeout of commands outside the RFC 5321 §4.5.3.2 stages: RSET between reused transactions, QUIT.</summary>
    public int CommandTimeoutSeconds { get; set; } = 300;

    /// <summary>RFC 5321 §4.5.3.2.1: initial 220 greeting (5 minutes); also covers EHLO and STARTTLS.</summary>
    public int GreetingTimeoutSeconds { get; set; } = 300;

    /// <summary>RFC 5321 §4.5.3.2.2: MAIL (5 minutes); also RSET between reused transactions.</summary>
    public int MailTimeoutSeconds { get; set; } = 300;

    /// <summary>RFC 5321 §4.5.3.2.3: each RCPT (5 minutes).</summary>
    public int RcptTimeoutSeconds { get; set; } = 300;

    /// <summary>RFC 5321 §4.5.3.2.4: the 354 reply to DATA (2 minutes).</summary>
    public int DataStartTimeoutSeconds { get; set; } = 120;

    /// <summary>RFC 5321 §4.5.3.2.5: each data block written (3 minutes).</summary>
    public int DataBlockTimeoutSeconds { get; set; } = 180;

    /// <summary>RFC 5321 §4.5.3.2.6: the reply to the final "." (10 minutes).</summary>
    public int DataEndTimeoutSeconds { get; set; } = 600;

    /// <summary>Deliver to MX hosts whose addresses are loopback, private (RFC 1918, RFC 4193), link-local or
    /// otherwise non-public. Off by default: an MX record must not turn the MTA into a probe of the inside.</summary>
    public bool AllowPrivateDestinations { get; set; }

    /// <summary><c>Ipv4</c> (default: IPv4 addresses first, then IPv6), <c>Ipv6</c> (IPv6 first),
    /// <c>Ipv4Only</c> or <c>Ipv6Only</c>.</summary>
    public AddressPreference AddressPreference { get; set; } = AddressPreference.Ipv4;

    /// <summary>MTA-STS (RFC 8461) for MX-routed domains: on by default, as in KumoMTA. An operator's per-domain
    /// <c>TlsPolicy</c> wins over a published policy.</summary>
    public bool MtaSts { get; set; } = true;

    /// <summary>DANE (RFC 7672) for MX-routed domains: off by default; needs a validating resolver
    /// (<c>MailCluster:Dns:DnssecValidating</c>). DANE takes precedence over MTA-STS.</summary>
    public bool Dane { get; set; }

    /// <summary>The port of the MTA-STS policy host (443; tests point it at their HTTPS server on loopback).</summary>
    public int MtaStsHttpsPort { get; set; } = 443;

    /// <summary>Time bound of one MTA-STS policy fetch (connect, TLS, response).</summary>
    public int MtaStsFetchTimeoutSeconds { get; set; } = 20;

    /// <summary>A PEM file of extra trust roots (private PKI, tests) for MTA-STS policy hosts and MX certificates
    /// under <c>verify</c> or MTA-STS; the system roots are always trusted too.</summary>
    public string? CaCertificatesPath { get; set; }

    /// <summary>TLS policy for domains without their own: <c>none|opportunistic|required|verify</c>.</summary>
    public string TlsPolicy { get; set; } = "opportunistic";

    /// <summary>Send everything not routed per domain through this relay: <c>smtp:host:port</c> or <c>lmtp:host:port</c>.</summary>
    public string? Smarthost { get; set; }

    /// <summary>AUTH user name for <see cref="Smarthost"/> (optional).</summary>
    public string? SmarthostUsername { get; set; }

    public string? SmarthostPassword { get; set; }

    /// <summary>XOAUTH2 toward <see cref="Smarthost"/> with a token MailCluster obtains itself, instead of the password
    /// (<c>MailCluster__Outbound__SmarthostOAuth__TokenEndpoint</c>, <c>__ClientId</c>, <c>__ClientSecretFile</c>,
    /// <c>__RefreshTokenFile</c>, <c>__Scope</c>); the SASL user is <see cref="SmarthostUsername"/>.</summary>
    public OAuth.OAuthClientOptions? SmarthostOAuth { get; set; }

    /// <summary>Connections open at once to one destination domain.</summary>
    public int MaxConnectionsPerDomain { get; set; } = 10;

    /// <summary>Messages sent over one connection before QUIT.</summary>
    public int MessagesPerConnection { get; set; } = 100;

    /// <summary>Messages started per minute to one domain; 0 = no limit.</summary>
    public int RatePerMinute { get; set; }

    /// <summary>An idle connection waits this long for another message before QUIT.</summary>
    public int ConnectionIdleSeconds { get; set; } = 5;

    /// <summary>Per-destination-domain overrides, a list (environment variables cannot carry dots portably):
    /// <c>MailCluster__Outbound__Domains__0__Name=example.com</c>.</summary>
    public List<DomainOutboundOptions> Domains { get; } = [];
}

public enum AddressPreference
{
    Ipv4,
    Ipv6,
    Ipv4Only,
    Ipv6Only,
}

/// <summary>One entry of <c>MailCluster:Outbound:Domains</c>; unset values fall back to the global ones.</summary>
public sealed class DomainOutboundOptions
{
    /// <summary>The recipient domain (matched case-insensitively, IDNA A-label).</summary>
    public string Name { get; set; } = "";

    /// <summary><c>mx</c> (default), <c>smtp:host:port</c> (smarthost) or <c>lmtp:host:port</c>.</summary>
    public string? Route { get; set; }

    /// <summary><c>none|opportunistic|required|verify</c>.</summary>
    public string? TlsPolicy { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>XOAUTH2 for this domain's route (<c>MailCluster__Outbound__Domains__N__OAuth__TokenEndpoint</c>, ...);
    /// the SASL user is <see cref="Username"/>.</summary>
    public OAuth.OAuthClientOptions? OAuth { get; set; }

    public int? MaxConnections { get; set; }

    public int? MessagesPerConnection { get; set; }

    public int? RatePerMinute { get; set; }
}

/// <summary>Configuration section <c>MailCluster:Dns</c>.</summary>
public sealed class DnsOptions
{
    public const string Section = "MailCluster:Dns";

    /// <summary>DNS servers as <c>host:port</c> (or <c>host</c> for port 53). Empty: the system resolvers.</summary>
    public List<string> Servers { get; } = [];

    /// <summary>Time to wait for one answer from one server.</summary>
    public int TimeoutSeconds { get; set; } = 5;

    /// <summary>Extra attempts per query after a timeout (DnsClient retries the same servers).</summary>
    public int Retries { get; set; } = 1;

    /// <summary>The operator declares that <see cref="Servers"/> validate DNSSEC (a local unbound, for example) and
    /// that the path to them cannot be tampered with (loopback): their AD bit is then trusted, as DANE needs.</summary>
    public bool DnssecValidating { get; set; }
}
