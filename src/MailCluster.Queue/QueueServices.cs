using Akka.Actor;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Spool;
using MailCluster.Queue.Suspensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailCluster.Queue;

/// <summary>What a domain queue needs from the node, resolved once from DI.</summary>
/// <param name="Connector">Opens the outbound connections the queue's connection actors use.</param>
/// <param name="DomainQueues">The domain-queue shard region, resolved lazily (it does not exist while the region's
/// own entity props are built): DSNs are queued through it like any other message.</param>
/// <param name="ReportingMta">This node's name in DSNs (Reporting-MTA, MAILER-DAEMON@).</param>
public sealed record QueueServices(
    ISpoolStore Spool,
    IDeliveryConnector Connector,
    RetryPolicy Retry,
    QueueOptions Options,
    TimeProvider Clock,
    Func<IActorRef> DomainQueues,
    string ReportingMta)
{
    /// <summary>Releases spool bodies, retrying failed releases in the background (one per node).</summary>
    public SpoolReleaser Releaser { get; init; } = new(Spool, Clock);

    /// <summary>The hot-domain buckets: a DSN to a sender in a split domain is queued in one of its buckets.</summary>
    public DomainBuckets Buckets { get; init; } = DomainBuckets.None;

    /// <summary>Where delivery outcomes are counted; <see cref="QueueMetrics.Detached"/> unless the node wires its registry.</summary>
    public QueueMetrics Metrics { get; init; } = QueueMetrics.Detached;

    /// <summary>Where the mail log's delivery outcomes go (<see cref="DeliveryLog"/>): a Microsoft.Extensions.Logging
    /// logger, not the actor's Akka adapter, so that its properties arrive as named properties (JSON console formatter).</summary>
    public ILogger MailLog { get; init; } = NullLogger.Instance;

    /// <summary>Operators' suspensions of destination domains, as this node last read them from the cluster database;
    /// <see cref="SuspensionSet.None"/> unless the node wires its set.</summary>
    public SuspensionSet Suspensions { get; init; } = SuspensionSet.None;
    /// <summary>Labels, counts and suppresses failed outcomes (issue 16); <see cref="Bounces.DeliveryClassification.None"/>
    /// unless the node registers a classifier.</summary>
    public Bounces.DeliveryClassification Classification { get; init; } = Bounces.DeliveryClassification.None;

    /// <summary>True when the delivery events are on (<see cref="Contracts.DeliveryEventDetails"/>): each attempt's
    /// next hop, TLS and node are persisted with its outcome.</summary>
    public bool RecordsEventDetails { get; init; }
}
