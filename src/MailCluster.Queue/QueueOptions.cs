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

    /// <summary>The orphan spool sweep (section <c>MailCluster:Queue:OrphanSweep</c>).</summary>
    public Sweep.OrphanSweepOptions OrphanSweep { get; set; } = new();
}

/// <summary>Configuration section <c>MailCluster:Storage</c>.</summary>
public sealed class StorageOptions
{
    public const string Section = "MailCluster:Storage";

    /// <summary><c>Sqlite</c> (embedded, one node) or <c>PostgreSql</c> (cluster).</summary>
    public string Provider { get; set; } = "Sqlite";

    /// <summary>For PostgreSql, the Npgsql connection string. For Sqlite, optional: defaults to files in the data directory.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>For PostgreSql, a file holding the connection string (either form), read once at start: a Kubernetes
    /// Secret mounted as a file, such as CloudNativePG's <c>uri</c> key. Used when <see cref="ConnectionString"/> is unset.</summary>
    public string? ConnectionStringFile { get; set; }
}
