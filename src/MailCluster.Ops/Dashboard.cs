namespace MailCluster.Ops;

/// <summary>
/// The ops dashboard (<c>GET /</c> and <c>GET /dashboard</c> on the ops port): one self-contained page, no external
/// assets and no framework. It asks for an API token first and keeps it in the tab's <c>sessionStorage</c> (gone when
/// the tab closes; never a cookie, so no other site can act with it), sending it as <c>Authorization: Bearer</c>. A
/// link may carry it in the fragment (<c>/#token=...&amp;domain=example.com</c>: a fragment never reaches a server); the
/// page stores it and removes it from the address bar. A few lines of script read <c>/healthz/ready</c>,
/// <c>/api/v1/cluster</c> and <c>/metrics</c> every 5 s and show readiness, the members, and the key counters with
/// their rate since the previous refresh, with a chart of a few rates over the last ten minutes (kept by the page since
/// it was opened); the cluster-wide queue summary (<c>/api/v1/queues</c>), a message looked up by id
/// (<c>/api/v1/messages/{id}</c>), a domain's queue; and the actions the token's role allows
/// (<c>GET /api/v1/tokens/current</c>): flush one queue or all, suspend and resume a domain, hold and release a message,
/// drain (operate), delete and bounce (admin). The fragment may also carry <c>message=ID</c> to look one up at once.
/// </summary>
public static class Dashboard
{
    public const string ContentType = "text/html; charset=utf-8";

    /// <summary>The series shown, in order: metric name (summed over its labels), label, and whether a rate is shown.</summary>
    public static IReadOnlyList<(string Metric, string Label, bool Rate)> Series { get; } =
    [
        ("mailcluster_smtp_sessions_open", "SMTP sessions open", false),
        ("mailcluster_smtp_connections_total", "SMTP connections", true),
        ("mailcluster_smtp_connections_refused_total", "Connections refused", true),
        ("mailcluster_smtp_messages_accepted_total", "Messages accepted (250)", true),
        ("mailcluster_acceptance_failures_total", "Acceptance failures (451)", true),
        ("mailcluster_smtp_rejections_total", "Rejections (4xx/5xx)", true),
        ("mailcluster_smtp_received_bytes_total", "Message bytes received", true),
        ("mailcluster_delivery_attempts_total{outcome=\"delivered\"}", "Recipients delivered", true),
        ("mailcluster_delivery_attempts_total{outcome=\"deferred\"}", "Recipients deferred", true),
        ("mailcluster_delivery_attempts_total{outcome=\"bounced\"}", "Recipients bounced", true),
        ("mailcluster_dsn_sent_total", "DSNs sent", true),
        ("mailcluster_outbound_connections_open", "Outbound connections open", false),
        ("mailcluster_queue_messages", "Queued messages (this node)", false),
        ("mailcluster_queue_recipients", "Queued recipients (this node)", false),
        ("mailcluster_shards_hosted", "Shards hosted", false),
        ("mailcluster_domain_queues_hosted", "Domain queues hosted", false),
    ];

    public static string Html { get; } = Build();

    private static string Build()
    {
        var series = string.Join(",\n", Series.Select(s =>
            $"  [{System.Text.Json.JsonSerializer.Serialize(s.Metric)}, {System.Text.Json.JsonSerializer.Serialize(s.Label)}, {(s.Rate ? "true" : "false")}]"));
        return Template.Replace("/*SERIES*/", series, StringComparison.Ordinal);
    }

    /// <summary>The page (DashboardPage.html, embedded in the assembly): markup, style and script in one file.</summary>
    private static string Template
    {
        get
        {
            using var stream = typeof(Dashboard).Assembly.GetManifestResourceStream("MailCluster.Ops.DashboardPage.html")
                ?? throw new InvalidOperationException("the dashboard page is not embedded in MailCluster.Ops");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }
}
