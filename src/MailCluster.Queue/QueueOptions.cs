namespace MailCluster.Queue;

/// <summary>Configuration section <c>MailCluster:Queue</c>.</summary>
public sealed class QueueOptions
{
    public const string Section = "MailCluster:Queue";

    /// <summary>Deliveries one domain queue runs at once.</summary>
    public int MaxConcurrentDeliveriesPerDomain { get; set; } = 10;

    /// <summary>A domain queue saves a snapshot after this many events, or after as many events as it holds
    /// messages when that is more (a snapshot costs in proportion to the queue), keeping recovery short.</summary>
    public int SnapshotEvery { get; set; } = 200;

    /// <summary>How long acceptance waits for every domain queue to persist before answering 451.</summary>
    public int EnqueueTimeoutSeconds { get; set; } = 30;

    /// <summary>How long a queued but uncommitted message waits for its commit before it is abandoned
    /// (acceptance failed after some Enqueued events were written).</summary>
    public int CommitGraceSeconds { get; set; } = 120;

    /// <summary>Number of shards of the domain-queue region (fixed for the life of a cluster's data).</summary>
    public int Shards { get; set; } = 100;

    /// <summary>Whether a destination's connection cap and rate hold across the cluster (one gate entity per destination
    /// domain grants leases to every node, issue 19); off, each node applies them on its own.</summary>
    public bool ClusterGates { get; set; } = true;

    /// <summary>How long a gate's lease lives without renewal (holders renew every third of it); a fresh gate also
    /// waits up to a third of it for holders to re-announce before it grants new connections.</summary>
    public int GateLeaseTtlSeconds { get; set; } = 30;

    /// <summary>The orphan spool sweep (section <c>MailCluster:Queue:OrphanSweep</c>).</summary>
    public Sweep.OrphanSweepOptions OrphanSweep { get; set; } = new();
}
