using Prometheus;

namespace MailCluster.Events;

/// <summary>Metrics of the delivery events and webhooks (STYLE habit 9), one block. Webhook series are labelled by the
/// webhook id: a handful per cluster, set by operators.</summary>
public sealed class EventMetrics
{
    public EventMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Projected = factory.CreateCounter("mailcluster_events_projected_total", "Delivery events written by the journal projection on this node (it runs on one node at a time).");
        ProjectionOffset = factory.CreateGauge("mailcluster_events_journal_offset", "The journal ordering the delivery-event projection has read up to (on the node that runs it).");
        WebhookLag = factory.CreateGauge("mailcluster_webhook_lag_events", "Events stored after a webhook's cursor (not yet sent or given up on), on the node that delivers webhooks.", ["webhook"]);
        WebhookRequests = factory.CreateCounter("mailcluster_webhook_requests_total", "Webhook POSTs by result: delivered (2xx) or failed (any other answer, timeout, connection error).", ["webhook", "result"]);
        WebhookFailedEvents = factory.CreateCounter("mailcluster_webhook_failed_events_total", "Events given up on after the webhook's retry window and passed.", ["webhook"]);
    }

    public Counter Projected { get; }

    public Gauge ProjectionOffset { get; }

    public Gauge WebhookLag { get; }

    public Counter WebhookRequests { get; }

    public Counter WebhookFailedEvents { get; }
}
