namespace MailCluster.Queue;

/// <summary>Registry key of the domain-queue shard region (or its proxy on edge-only nodes).</summary>
public sealed class DomainQueueRegion;

/// <summary>Registry key of the orphan spool sweep singleton (nothing is registered: it takes no messages).</summary>
public sealed class SpoolSweep;
