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

    /// <summary>Per-command timeout (RFC 5321 §4.5.3.2 asks for minutes; MailKit applies one timeout per operation).</summary>
    public int CommandTimeoutSeconds { get; set; } = 300;
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
}
