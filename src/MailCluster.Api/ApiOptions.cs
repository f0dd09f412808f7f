namespace MailCluster.Api;

/// <summary>
/// Configuration section <c>MailCluster:Api</c>: the HTTP injection listener (issue 20). Off by default: it is a
/// second way for mail to enter the cluster, opened on purpose by an operator who has issued keys for it.
/// </summary>
public sealed class ApiOptions
{
    public const string Section = "MailCluster:Api";

    /// <summary>Opens the injection listener on edge nodes.</summary>
    public bool Enabled { get; set; }

    /// <summary>Port of the injection listener (KumoMTA's HTTP listener default is 8000; ours 8025, "SMTP over HTTP").</summary>
    public int Port { get; set; } = 8025;

    /// <summary>Address the injection listener binds to (<c>*</c> = every address).</summary>
    public string BindAddress { get; set; } = "*";

    /// <summary>HTTPS with the SMTP listeners' certificate (<c>MailCluster:Smtp:TlsCertificatePath</c>/<c>TlsKeyPath</c>).</summary>
    public bool Tls { get; set; }

    /// <summary>Largest request body in bytes; 0 = the SMTP message size limit (<c>MailCluster:Smtp:MaxMessageSize</c>).</summary>
    public long MaxRequestBytes { get; set; }

    /// <summary>Recipients in one request.</summary>
    public int MaxRecipients { get; set; } = 10_000;

    /// <summary>Largest attachment, decoded, in bytes.</summary>
    public long MaxAttachmentBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>How long an <c>Idempotency-Key</c> answers with the first result (hours).</summary>
    public int IdempotencyHours { get; set; } = 24;

    /// <summary>The body limit in force: <see cref="MaxRequestBytes"/>, or the SMTP size limit when it is 0.</summary>
    public long EffectiveMaxRequestBytes(long smtpMaxMessageSize) => MaxRequestBytes > 0 ? MaxRequestBytes : smtpMaxMessageSize;

    /// <summary>The problems of these options as (key below <c>MailCluster:Api</c>, problem), for start-up validation.</summary>
    public IEnumerable<(string Key, string Problem)> Problems()
    {
        if (Port is < 1 or > 65535)
        {
            yield return ("Port", $"must be a port 1-65535, got {Port}");
        }

        if (BindAddress is not ("*" or "") && !System.Net.IPAddress.TryParse(BindAddress, out _))
        {
            yield return ("BindAddress", $"must be an IP address or *, got '{BindAddress}'");
        }

        if (MaxRequestBytes < 0)
        {
            yield return ("MaxRequestBytes", $"must be 0 (the SMTP size limit) or a positive byte count, got {MaxRequestBytes}");
        }

        if (MaxRecipients < 1)
        {
            yield return ("MaxRecipients", $"must be at least 1, got {MaxRecipients}");
        }

        if (MaxAttachmentBytes < 1)
        {
            yield return ("MaxAttachmentBytes", $"must be at least 1, got {MaxAttachmentBytes}");
        }

        if (IdempotencyHours < 1)
        {
            yield return ("IdempotencyHours", $"must be at least 1, got {IdempotencyHours}");
        }
    }
}
