using MailCluster.Smtp;
using Prometheus;
using Xunit;

namespace MailCluster.Edge.Tests.Metrics;

public class EdgeMetricsTests
{
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly EdgeMetrics _metrics;

    public EdgeMetricsTests()
    {
        _metrics = new EdgeMetrics(Prometheus.Metrics.WithCustomRegistry(_registry));
    }

    [Fact]
    public async Task Every_listener_and_reason_is_exposed_from_the_start()
    {
        var samples = ExpositionText.Samples(await ExpositionText.ScrapeAsync(_registry));

        foreach (var listener in new[] { "mx", "submission", "submissions" })
        {
            Assert.Equal(0, samples[$"mailcluster_smtp_connections_total{{listener=\"{listener}\"}}"]);
            Assert.Equal(0, samples[$"mailcluster_smtp_sessions_open{{listener=\"{listener}\"}}"]);
            foreach (var reason in new[] { "node_limit", "client_limit", "draining", "early_talker" })
            {
                Assert.Equal(0, samples[$"mailcluster_smtp_connections_refused_total{{listener=\"{listener}\",reason=\"{reason}\"}}"]);
            }
        }
    }

    [Fact]
    public async Task Only_4xx_and_5xx_replies_count_as_rejections_by_code_and_enhanced_code()
    {
        var mx = _metrics.For(ListenerRole.Mx);
        mx.OnReply(SmtpReplies.Ok);
        mx.OnReply(SmtpReplies.StartMailInput);
        mx.OnReply(SmtpReplies.RelayDenied);
        mx.OnReply(SmtpReplies.RelayDenied);
        mx.OnReply(SmtpReplies.LocalError);
        mx.OnReply(new SmtpReply(421, "", "no enhanced code"));
        _metrics.For(ListenerRole.Submission).OnReply(SmtpReplies.AuthFailed);

        var samples = ExpositionText.Samples(await ExpositionText.ScrapeAsync(_registry));
        var rejections = samples.Where(kv => kv.Key.StartsWith("mailcluster_smtp_rejections_total", StringComparison.Ordinal)).ToDictionary();

        Assert.Equal(
            new Dictionary<string, double>
            {
                ["mailcluster_smtp_rejections_total{listener=\"mx\",code=\"554\",enhanced_code=\"5.7.1\"}"] = 2,
                ["mailcluster_smtp_rejections_total{listener=\"mx\",code=\"451\",enhanced_code=\"4.3.0\"}"] = 1,
                ["mailcluster_smtp_rejections_total{listener=\"mx\",code=\"421\",enhanced_code=\"none\"}"] = 1,
                ["mailcluster_smtp_rejections_total{listener=\"submission\",code=\"535\",enhanced_code=\"5.7.8\"}"] = 1,
            },
            rejections);
    }

    [Fact]
    public async Task Distinct_reply_codes_are_bounded_per_listener()
    {
        var mx = _metrics.For(ListenerRole.Mx);
        for (var i = 0; i < EdgeMetrics.MaxReplyCodesPerListener + 10; i++)
        {
            mx.OnReply(new SmtpReply(550, $"5.{i / 100}.{i % 100}", "x"));
        }

        var samples = ExpositionText.Samples(await ExpositionText.ScrapeAsync(_registry));
        var series = samples.Keys.Where(k => k.StartsWith("mailcluster_smtp_rejections_total{listener=\"mx\"", StringComparison.Ordinal)).ToList();

        Assert.Equal(EdgeMetrics.MaxReplyCodesPerListener + 1, series.Count);
        Assert.Equal(10, samples["mailcluster_smtp_rejections_total{listener=\"mx\",code=\"other\",enhanced_code=\"other\"}"]);
    }

    [Fact]
    public void Counting_on_the_hot_path_does_not_allocate()
    {
        var mx = _metrics.For(ListenerRole.Mx);
        var refusal = SmtpReplies.TooManyRecipients;
        for (var i = 0; i < 10_000; i++)
        {
            Exercise(mx, refusal); // first use creates the cached label child; the loop lets the JIT settle
        }

        // One-off allocations (the runtime's, a few bytes) may happen; one per increment would be megabytes here.
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++)
        {
            Exercise(mx, refusal);
        }

        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1024);

        static void Exercise(ListenerMetrics m, SmtpReply refusal)
        {
            m.Connections.Inc();
            m.SessionsOpen.Inc();
            m.MessagesAccepted.Inc();
            m.BytesReceived.Inc(1234);
            m.OnReply(SmtpReplies.Ok);
            m.OnReply(refusal);
            m.Refused(ConnectionRefusalReason.ClientLimit).Inc();
            m.SessionsOpen.Dec();
        }
    }

    [Fact]
    public async Task Detached_metrics_do_not_reach_a_node_registry()
    {
        EdgeMetrics.Detached.For(ListenerRole.Mx).Connections.Inc();

        var samples = ExpositionText.Samples(await ExpositionText.ScrapeAsync(_registry));

        Assert.Equal(0, samples["mailcluster_smtp_connections_total{listener=\"mx\"}"]);
    }
}
