using MailCluster.Queue.Delivery;
using Prometheus;
using Xunit;

namespace MailCluster.Queue.Tests.Metrics;

public class QueueMetricsTests
{
    private static readonly DateTimeOffset Arrived = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly QueueMetrics _metrics = new(Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.NewCustomRegistry()));

    private static RecipientOutcome Outcome(string recipient, OutcomeKind kind) => new(recipient, kind, 0, "", "");

    [Fact]
    public void Each_recipient_outcome_counts_once_under_its_label()
    {
        var result = new DeliveryResult(
            [Outcome("a@x.test", OutcomeKind.Delivered), Outcome("b@x.test", OutcomeKind.Transient), Outcome("c@x.test", OutcomeKind.Permanent),
             Outcome("d@x.test", OutcomeKind.Delivered)],
            "mx.x.test[192.0.2.1]",
            null);

        _metrics.OnAttempt(result, Arrived, Arrived.AddSeconds(42));

        Assert.Equal(2, _metrics.Attempts(OutcomeKind.Delivered).Value);
        Assert.Equal(1, _metrics.Attempts(OutcomeKind.Transient).Value);
        Assert.Equal(1, _metrics.Attempts(OutcomeKind.Permanent).Value);
        Assert.Equal(2, _metrics.DeliveryDuration.Count);
        Assert.Equal(84, _metrics.DeliveryDuration.Sum, 6);
    }

    [Fact]
    public async Task Outcomes_are_exposed_as_delivered_deferred_and_bounced()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new QueueMetrics(Prometheus.Metrics.WithCustomRegistry(registry));
        metrics.Attempts(OutcomeKind.Delivered).Inc(1);
        metrics.Attempts(OutcomeKind.Transient).Inc(2);
        metrics.Attempts(OutcomeKind.Permanent).Inc(3);

        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream, TestContext.Current.CancellationToken);
        var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());

        Assert.Contains("mailcluster_delivery_attempts_total{outcome=\"delivered\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("mailcluster_delivery_attempts_total{outcome=\"deferred\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("mailcluster_delivery_attempts_total{outcome=\"bounced\"} 3\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_delivery_observed_before_its_arrival_time_counts_as_zero_not_negative()
    {
        _metrics.OnAttempt(new DeliveryResult([Outcome("a@x.test", OutcomeKind.Delivered)], null, null), Arrived, Arrived.AddSeconds(-3));

        Assert.Equal(0, _metrics.DeliveryDuration.Sum);
        Assert.Equal(1, _metrics.DeliveryDuration.Count);
    }

    [Fact]
    public void Counting_an_acceptance_does_not_allocate()
    {
        for (var i = 0; i < 10_000; i++)
        {
            Count(i); // first use of each metric; the loop lets the JIT settle
        }

        // One-off allocations (the runtime's, a few bytes) may happen; one per observation would be megabytes here.
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++)
        {
            Count(i);
        }

        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1024);
        Assert.Equal(110_000, _metrics.AcceptanceDuration.Count);

        void Count(int i)
        {
            _metrics.AcceptanceDuration.Observe(i * 1e-5);
            _metrics.AcceptanceFailures.Inc();
            _metrics.Attempts(OutcomeKind.Delivered).Inc();
            _metrics.DeliveryDuration.Observe(i);
        }
    }

    [Theory]
    [InlineData(new[] { "delivered", "failed", "delayed" }, "failed")]
    [InlineData(new[] { "delivered", "delayed" }, "delayed")]
    [InlineData(new[] { "relayed", "delivered" }, "relayed")]
    [InlineData(new[] { "delivered" }, "delivered")]
    public void A_dsn_counts_once_under_its_most_severe_action(string[] actions, string expected)
    {
        _metrics.OnDsnQueued(actions);

        var counts = new Dictionary<string, double>
        {
            ["failed"] = _metrics.DsnFailed.Value,
            ["delayed"] = _metrics.DsnDelayed.Value,
            ["relayed"] = _metrics.DsnRelayed.Value,
            ["delivered"] = _metrics.DsnDelivered.Value,
        };
        Assert.Equal(1, counts[expected]);
        Assert.Equal(1, counts.Values.Sum());
    }
}
