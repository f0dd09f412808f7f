namespace MailCluster.Outbound.TlsRpt;

/// <summary>Configuration section <c>MailCluster:TlsRpt</c>: the daily aggregate reports of RFC 8460.</summary>
public sealed class TlsRptOptions
{
    public const string Section = "MailCluster:TlsRpt";

    /// <summary>Count sessions and send reports (on by default: reports go only to domains that publish a
    /// <c>_smtp._tls</c> TXT record asking for them).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>RFC 8460 §4.4 "organization-name"; default: the node's hostname.</summary>
    public string? OrganizationName { get; set; }

    /// <summary>RFC 8460 §4.4 "contact-info" (an address or URI); default: postmaster@ the submitter.</summary>
    public string? ContactInfo { get; set; }

    /// <summary>The TLS-Report-Submitter (RFC 8460 §5.3), the host name of the sending MTA; default: the node's hostname.</summary>
    public string? Submitter { get; set; }

    /// <summary>The envelope sender and From of reports sent by mail; default: tlsrpt-noreply@ the submitter.</summary>
    public string? ReportSender { get; set; }

    /// <summary>The UTC hour after which the previous day's reports are sent (0-23).</summary>
    public int SendHourUtc { get; set; } = 1;

    /// <summary>The period one report covers: 86400 (one UTC day, RFC 8460 §4.1). Tests shorten it; a shorter
    /// period is sent as soon as it ends.</summary>
    public int PeriodSeconds { get; set; } = 86_400;

    /// <summary>How often this node's counts are added to the cluster's table.</summary>
    public int FlushSeconds { get; set; } = 10;

    /// <summary>How often the reporter looks for periods to report.</summary>
    public int CheckSeconds { get; set; } = 60;

    /// <summary>How long a node's claim on a report lasts without renewal (it renews before each rua it sends to):
    /// after that, another node (or the same one restarted) takes the report over. Longer than one delivery to a rua.</summary>
    public int ClaimLeaseSeconds { get; set; } = 900;
}
