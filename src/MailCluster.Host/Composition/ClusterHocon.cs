using System.Globalization;
using MailCluster.Host.Configuration;

namespace MailCluster.Host.Composition;

/// <summary>
/// The cluster's failure handling, in one place so the trade-offs read together (README "Clustering").
/// <list type="bullet">
/// <item>Failure detection: a heartbeat every second; a node silent for <c>HeartbeatPauseSeconds</c> (4 s) is
/// unreachable. Lower values make garbage-collection pauses or a busy 2-core host look like a crash.</item>
/// <item>Split Brain Resolver, keep-majority: once the unreachable set is stable for <c>StableAfterSeconds</c>
/// (7 s, Akka's default is 20 s), the side with more than half the members survives and downs the other; on a tie
/// the side holding the lowest address survives. Run an odd number of nodes (3, 5, 7): with an even number a
/// clean half/half split keeps only the lowest-address half, and two nodes cannot lose either one safely.
/// <c>down-all-when-unstable</c> downs everything if membership keeps flapping rather than guessing.</item>
/// <item>Sharding: least-shard allocation, rebalancing at most 10% of the shards (20 at most) per round every
/// <c>RebalanceIntervalSeconds</c>. A domain queue that stops on a journal failure (the database is down) is
/// restarted by its entity (DomainQueueEntity) after a growing backoff, 2 s doubling to 60 s, again and again until
/// recovery succeeds, so a domain queue never stays dead; <c>entity-restart-backoff</c> only applies should an
/// entity itself stop unexpectedly.</item>
/// <item>Journal circuit breaker: opens after 5 failed calls and half-opens after 3 s, so writes resume within
/// seconds of the database coming back (the default 30 s would keep answering 451 long after).</item>
/// </list>
/// </summary>
public static class ClusterHocon
{
    public static string For(ClusterNodeOptions cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return string.Create(CultureInfo.InvariantCulture, $$"""
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            akka.cluster {
              downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
              split-brain-resolver {
                active-strategy = keep-majority
                stable-after = {{cluster.StableAfterSeconds}}s
                down-all-when-unstable = on
              }
              failure-detector {
                heartbeat-interval = 1s
                acceptable-heartbeat-pause = {{cluster.HeartbeatPauseSeconds}}s
                threshold = 8.0
              }
              seed-node-timeout = 3s
              retry-unsuccessful-join-after = 3s
              shutdown-after-unsuccessful-join-seed-nodes = off
              sharding {
                rebalance-interval = {{cluster.RebalanceIntervalSeconds}}s
                least-shard-allocation-strategy {
                  rebalance-absolute-limit = 20
                  rebalance-relative-limit = 0.1
                }
                entity-restart-backoff = 2s
                shard-failure-backoff = 2s
                coordinator-failure-backoff = 2s
                retry-interval = 1s
                handoff-timeout = 30s
              }
            }
            akka.persistence.journal.sql.circuit-breaker { max-failures = 5, call-timeout = 10s, reset-timeout = 3s }
            akka.persistence.snapshot-store.sql.circuit-breaker { max-failures = 5, call-timeout = 10s, reset-timeout = 3s }
            """);
    }
}
