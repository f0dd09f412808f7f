namespace MailCluster.Host.Composition;

/// <summary>Registry key of the domain-queue shard region (or its proxy on edge-only nodes).</summary>
public sealed class DomainQueueRegion;
