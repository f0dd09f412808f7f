using Prometheus;

namespace MailCluster.Ops;

/// <summary>
/// Node figures that alerts and the Grafana dashboard need beyond the per-owner blocks, declared in one block (STYLE
/// habit 9) and read when Prometheus scrapes: the build (a constant 1 labelled with the version), when the edge's TLS
/// certificate expires, and how old the oldest message queued on this node is.
/// </summary>
public sealed class ServiceMetrics
{
    private readonly Func<DateTimeOffset?> _certificateNotAfter;
    private readonly Func<DateTimeOffset?> _oldestQueued;
    private readonly TimeProvider _clock;
    private readonly Gauge _certificateExpiry;
    private readonly Gauge _oldestAge;

    /// <param name="registry">The node's registry.</param>
    /// <param name="certificateNotAfter">NotAfter of the certificate the edge presents now (hot reload included); null
    /// on a node without the edge role, which then exports no certificate series.</param>
    /// <param name="oldestQueued">Arrival time of the oldest message held by the domain queues running here; null when
    /// they hold none.</param>
    /// <param name="clock">Time source of the age.</param>
    public ServiceMetrics(CollectorRegistry registry, Func<DateTimeOffset?> certificateNotAfter, Func<DateTimeOffset?> oldestQueued, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _certificateNotAfter = certificateNotAfter;
        _oldestQueued = oldestQueued;
        _clock = clock;
        var factory = Metrics.WithCustomRegistry(registry);
        factory.CreateGauge("mailcluster_build_info", "Always 1; the labels say which build this node runs.", ["version", "revision"])
            .WithLabels(BuildInfo.Version, BuildInfo.Revision).Set(1);
        _certificateExpiry = factory.CreateGauge(
            "mailcluster_tls_certificate_expiry_timestamp_seconds",
            "Unix time at which the TLS certificate the SMTP edge presents now stops being valid (its NotAfter); edge nodes only.");
        _oldestAge = factory.CreateGauge(
            "mailcluster_queue_oldest_message_age_seconds",
            "Age of the oldest message held by the domain queues running on this node (0 when they hold none).");
        registry.AddBeforeCollectCallback(Update);
    }

    /// <summary>Refreshes the gauges; runs before each collection.</summary>
    public void Update()
    {
        if (_certificateNotAfter() is { } notAfter)
        {
            _certificateExpiry.Set(notAfter.ToUnixTimeMilliseconds() / 1000.0);
        }
        else
        {
            _certificateExpiry.Unpublish();
        }

        var oldest = _oldestQueued();
        _oldestAge.Set(oldest is { } arrived ? Math.Max(0, (_clock.GetUtcNow() - arrived).TotalSeconds) : 0);
    }
}
