namespace MailCluster.Host.Configuration;

/// <summary>Configuration section <c>MailCluster</c> (the keys directly under it).</summary>
public sealed class NodeOptions
{
    public const string Section = "MailCluster";

    /// <summary>Where the embedded SQLite journal and spool live.</summary>
    public string DataDir { get; set; } = "data";

    /// <summary>The name this node uses in greetings, EHLO and Received headers.</summary>
    public string Hostname { get; set; } = System.Net.Dns.GetHostName();
}

/// <summary>Configuration section <c>MailCluster:Cluster</c>.</summary>
public sealed class ClusterNodeOptions
{
    public const string Section = "MailCluster:Cluster";

    /// <summary>Address this node advertises to the others.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Cluster (Akka.Remote) port; 0 picks a free one (single node only).</summary>
    public int Port { get; set; }

    /// <summary>Seed nodes as <c>host:port</c>. Empty: the node forms a cluster of its own.</summary>
    public List<string> Seeds { get; } = [];

    /// <summary><c>edge</c> (SMTP listeners) and/or <c>delivery</c> (domain queues). Empty: both.</summary>
    public List<string> Roles { get; } = [];

    /// <summary>DNS name of a Kubernetes headless Service whose addresses are the seeds (SRV records when the
    /// name has them, else A/AAAA records with <see cref="Port"/>); used when <see cref="Seeds"/> is empty.</summary>
    public string? DiscoveryService { get; set; }

    /// <summary>How long a partition must stay unchanged before the Split Brain Resolver downs the minority
    /// side (keep-majority). Failover after a crash takes about HeartbeatPauseSeconds + 1.5 + StableAfterSeconds + 0.5 +
    /// DownRemovalMarginSeconds + about 1.5 (coordinator, re-homing, recovery); docs/ARCHITECTURE.md "Failure handling".
    /// At least the time every node needs to see an unreachable member: raise it for clusters above ~7 nodes.</summary>
    public int StableAfterSeconds { get; set; } = 2;

    /// <summary>Silence (missed heartbeats, sent every 500 ms) after which a node is marked unreachable; must stay above
    /// the longest stall of a loaded node (<c>bench/cluster.sh stability</c> measures it).</summary>
    public int HeartbeatPauseSeconds { get; set; } = 3;

    /// <summary>After a node is downed and removed, how long the survivors wait before starting its shards (and the
    /// shard coordinator) elsewhere: the time the downed side has to stop its own domain queues.</summary>
    public int DownRemovalMarginSeconds { get; set; } = 1;

    /// <summary>Seconds between shard rebalancing rounds (each moves at most 10% of the shards, 20 at most).</summary>
    public int RebalanceIntervalSeconds { get; set; } = 5;

    public IReadOnlyList<string> EffectiveRoles => Roles.Count == 0 ? ["edge", "delivery"] : Roles;
}

/// <summary>One entry of <c>MailCluster:Queue:Buckets</c>: a hot domain split over <see cref="Count"/> entities.</summary>
public sealed class QueueBucketOptions
{
    public string Domain { get; set; } = "";

    public int Count { get; set; } = 1;
}
