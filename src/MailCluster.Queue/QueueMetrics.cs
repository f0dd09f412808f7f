using MailCluster.Queue.Delivery;
using Prometheus;

namespace MailCluster.Queue;

/// <summary>
/// Metrics of durable acceptance and delivery, declared in one block (STYLE habit 9). No series is labelled by
/// domain, address or message: outcome and DSN action are small fixed sets, so the label children are resolved once
/// here and every increment is a lock-free add on a cached child.
/// </summary>
public sealed class QueueMetrics
{
    /// <summary>Acceptance latency buckets, seconds: a group-committed SQLite or PostgreSQL write takes milliseconds;
    /// the enqueue timeout (30 s by default) bounds the top.</summary>
    private static readonly double[] AcceptanceBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    /// <summary>Arrival-to-delivery buckets, seconds: from an immediate hand-off to the retry horizon (5 days).</summary>
    private static readonly double[] DeliveryBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 14400, 43200, 86400, 259200, 432000];

    private readonly Counter.Child[] _attempts;
    private readonly Counter.Child _sweepsCompleted;
    private readonly Counter.Child _sweepsFailed;

    public QueueMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        AcceptanceDuration = factory.CreateHistogram(
            "mailcluster_acceptance_duration_seconds",
            "Time from the end of DATA/BDAT to the durable commit that allows 250 (spool body and every Enqueued event), for accepted messages.",
            new HistogramConfiguration { Buckets = AcceptanceBuckets });
        AcceptanceFailures = factory.CreateCounter(
            "mailcluster_acceptance_failures_total",
            "Messages answered 451 4.3.0 because acceptance failed (spool or journal error, domain queue timeout).");
        var attempts = factory.CreateCounter(
            "mailcluster_delivery_attempts_total",
            "Per-recipient delivery attempt outcomes: delivered (2xx), deferred (4xx, network or DNS failure: retried) or bounced (5xx, permanent).", ["outcome"]);
        _attempts = [attempts.WithLabels("delivered"), attempts.WithLabels("deferred"), attempts.WithLabels("bounced")];
        DeliveryDuration = factory.CreateHistogram(
            "mailcluster_delivery_duration_seconds",
            "Time from a message's arrival to the delivery of a recipient (retries included), per delivered recipient.",
            new HistogramConfiguration { Buckets = DeliveryBuckets });
        var dsns = factory.CreateCounter(
            "mailcluster_dsn_sent_total",
            "Delivery status notifications queued to senders (RFC 3464), by the most severe action they report (failed, delayed, relayed, delivered).", ["action"]);
        DsnFailed = dsns.WithLabels("failed");
        DsnDelayed = dsns.WithLabels("delayed");
        DsnRelayed = dsns.WithLabels("relayed");
        DsnDelivered = dsns.WithLabels("delivered");
        OutboundConnectionsOpen = factory.CreateGauge(
            "mailcluster_outbound_connections_open", "Outbound SMTP/LMTP connections open now from this node's domain queues.");

        // The orphan spool sweep (Sweep/OrphanSweep.cs); it runs on one delivery node at a time.
        var sweeps = factory.CreateCounter(
            "mailcluster_spool_sweep_runs_total", "Runs of the orphan spool sweep on this node: completed, or failed (the spool could not be read).", ["result"]);
        _sweepsCompleted = sweeps.WithLabels("completed");
        _sweepsFailed = sweeps.WithLabels("failed");
        SweepLastSuccess = factory.CreateGauge(
            "mailcluster_spool_sweep_last_success_timestamp_seconds", "Unix time at which the last orphan spool sweep on this node completed (0: never).");
        SweepReferencesReleased = factory.CreateCounter(
            "mailcluster_spool_sweep_references_released_total", "Spool references released by the sweep because no domain queue held their message any more.");
        SweepBodiesDeleted = factory.CreateCounter(
            "mailcluster_spool_sweep_bodies_deleted_total", "Uncommitted spool bodies (failed acceptances) deleted by the sweep because no domain queue held them.");
        SweepQueuesUnanswered = factory.CreateCounter(
            "mailcluster_spool_sweep_queues_unanswered_total", "Domain-queue entities that did not answer the sweep in time; their references were left for the next run.");
        SweepDomainsSkipped = factory.CreateCounter(
            "mailcluster_spool_sweep_domains_skipped_total",
            "Domains the sweep skipped for a run because a node or the shard coordinator did not say which of their buckets run (leftover buckets could be missed).");
        SweepSuspects = factory.CreateGauge(
            "mailcluster_spool_sweep_suspects",
            "References and uncommitted bodies the last sweep found held by no queue for the first time; released only if the next run finds them un-held again.");
    }

    /// <summary>An instance on a registry of its own that nobody scrapes (tests, and services built without a node).</summary>
    public static QueueMetrics Detached { get; } = new(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry()));

    /// <summary>The domain queues running on this node, read by the oldest-queued-message gauge.</summary>
    public QueueAges Ages { get; } = new();

    public Histogram AcceptanceDuration { get; }

    public Counter AcceptanceFailures { get; }

    public Histogram DeliveryDuration { get; }

    public Counter.Child DsnFailed { get; }

    public Counter.Child DsnDelayed { get; }

    public Counter.Child DsnRelayed { get; }

    public Counter.Child DsnDelivered { get; }

    public Gauge OutboundConnectionsOpen { get; }

    public Gauge SweepLastSuccess { get; }

    public Counter SweepReferencesReleased { get; }

    public Counter SweepBodiesDeleted { get; }

    public Counter SweepQueuesUnanswered { get; }

    public Counter SweepDomainsSkipped { get; }

    public Gauge SweepSuspects { get; }

    public Counter.Child Attempts(OutcomeKind outcome) => _attempts[(int)outcome];

    public Counter.Child SweepRuns(bool succeeded) => succeeded ? _sweepsCompleted : _sweepsFailed;

    /// <summary>Counts one attempt's outcomes; each delivered recipient also records its time since arrival.</summary>
    public void OnAttempt(DeliveryResult result, DateTimeOffset arrivedAt, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(result);
        foreach (var outcome in result.Outcomes)
        {
            Attempts(outcome.Kind).Inc();
            if (outcome.Kind == OutcomeKind.Delivered)
            {
                DeliveryDuration.Observe(Math.Max(0, (now - arrivedAt).TotalSeconds));
            }
        }
    }

    /// <summary>Counts one queued DSN under the most severe RFC 3464 action among <paramref name="actions"/>.</summary>
    public void OnDsnQueued(IEnumerable<string> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var severity = 0;
        foreach (var action in actions)
        {
            severity = Math.Max(severity, action switch
            {
                "failed" => 3,
                "delayed" => 2,
                "relayed" => 1,
                _ => 0,
            });
        }

        (severity switch
        {
            3 => DsnFailed,
            2 => DsnDelayed,
            1 => DsnRelayed,
            _ => DsnDelivered,
        }).Inc();
    }
}
