using System.Globalization;
using MailCluster.Host.Configuration;

namespace MailCluster.Host.Composition;

/// <summary>
/// The cluster's failure handling, in one place so the trade-offs read together (docs/ARCHITECTURE.md "Failure
/// handling" says why each value is safe; README "Clustering").
/// <list type="bullet">
/// <item>Failure detection: a heartbeat every 500 ms; a node silent for about <c>HeartbeatPauseSeconds</c> (3 s)
/// + 1 s is unreachable (phi threshold 8 with a 100 ms minimum deviation; more when heartbeats arrive irregularly
/// under load). The cluster's own actors (heartbeats, gossip, the resolver) run on two dedicated threads
/// (<c>mailcluster-cluster-dispatcher</c>), not on the .NET thread pool that the domain queues, Npgsql and Kestrel
/// keep busy under load, so a heartbeat does not wait in the pool's queue behind that work (late heartbeats under
/// load dropped from 2-3.3 s to none in most loaded runs; an OS-starved process is still late: docs/BENCHMARKS.md).
/// The detector is consulted every 250 ms (<c>unreachable-nodes-reaper-interval</c>, Akka's default 1 s): this only
/// shortens the wait between phi crossing the threshold and the marking, the silence tolerated is the same.
/// Unreachable is not down: a node is only downed after it stays unreachable for <c>StableAfterSeconds</c> more, so a
/// false down needs a silence of pause + 1 + stable-after (6 s with the defaults); Akka warns ("heartbeat interval
/// is growing too large") at two thirds of the pause, which is how a loaded run measures the margin
/// (<c>bench/cluster.sh stability</c>).</item>
/// <item>Split Brain Resolver, keep-majority: once the unreachable set is stable for <c>StableAfterSeconds</c>
/// (2 s, Akka's default is 20 s), the side with more than half the members survives and downs the other; on a tie
/// the side holding the lowest address survives. Stable-after must cover the time every node needs to see the
/// unreachability (the survivors' own detectors mark a dead node within about a second of each other, and gossip
/// every 500 ms spreads it): 2 s covers a 3-7 node cluster; raise it for larger ones. Run an odd number of nodes
/// (3, 5, 7): with an even number a clean half/half split keeps only the lowest-address half, and two nodes cannot
/// lose either one safely. <c>down-all-when-unstable</c> downs everything if membership keeps flapping rather than
/// guessing.</item>
/// <item>Gossip and leader actions every 500 ms (Akka's default 1 s): a Down reaches the other members, and the
/// leader removes the downed node once all have seen it, in half the time; membership decisions are unchanged.</item>
/// <item>Down-removal margin (<c>DownRemovalMarginSeconds</c>, 1 s; left unset Akka would use stable-after
/// again): how long the survivors wait after removing a downed node before its shards and the coordinator start
/// elsewhere, the time the downed side of a partition has to stop its domain queues. Even when that side is
/// slower, two incarnations of one domain queue cannot both commit: the journal's key (persistence id, sequence
/// number) rejects the second write of a sequence number, and a rejected write never answers 250.</item>
/// <item>Sharding: least-shard allocation, rebalancing at most 10% of the shards (20 at most) per round every
/// <c>RebalanceIntervalSeconds</c>. While the coordinator moves, regions ask it for shard homes every 500 ms
/// (<c>retry-interval</c>); a shard or the coordinator that failed restarts after 1 s. <c>updating-state-timeout</c>
/// (10 s, Akka's default 5 s) is also how long a starting shard waits for its remembered entity ids from the journal:
/// under full load on a starved machine that read took more than 3 and 5 s, and a shard that gives up restarts and
/// reads again from the start, so a short timeout turned a slow start into repeated failed ones (the failover runs'
/// tail). The price: a coordinator DData update that cannot
/// complete (a write begun while a dead node was still a member waits for that node) is retried only after 10 s; with
/// no allocation or rebalance under way at the crash, as in the measured runs, there is none. A domain queue that stops on a journal failure (the database is down)
/// is restarted by its entity (DomainQueueEntity) after a growing backoff, 2 s doubling to 60 s, again and again until
/// recovery succeeds, so a domain queue never stays dead; <c>entity-restart-backoff</c> (1 s) only applies should an
/// entity itself stop unexpectedly. Remember-entities restarts the domain queues of a dead node's shards at once on
/// their new node, so mail it had queued is retried without waiting for new mail to that domain.</item>
/// <item>Seed-node timeout 10 s (was 3 s): the first seed, restarted, asks the other seeds to let it join and
/// forms a cluster of its own only when none answers within this time. T112 (rolling restart under load) caught a
/// restarted first seed doing so after 3 s while the others were alive but slow on a loaded machine: a second cluster
/// on the same database. Seeds that answer "not in a cluster yet" (a fresh start of all nodes) end the wait at once,
/// so only a first boot with the other seeds absent waits the full 10 s.</item>
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
              use-dispatcher = mailcluster-cluster-dispatcher
              failure-detector {
                heartbeat-interval = 500ms
                acceptable-heartbeat-pause = {{cluster.HeartbeatPauseSeconds}}s
                threshold = 8.0
              }
              unreachable-nodes-reaper-interval = 250ms
              gossip-interval = 500ms
              leader-actions-interval = 500ms
              down-removal-margin = {{cluster.DownRemovalMarginSeconds}}s
              seed-node-timeout = 10s
              retry-unsuccessful-join-after = 3s
              shutdown-after-unsuccessful-join-seed-nodes = off
              sharding {
                rebalance-interval = {{cluster.RebalanceIntervalSeconds}}s
                least-shard-allocation-strategy {
                  rebalance-absolute-limit = 20
                  rebalance-relative-limit = 0.1
                }
                entity-restart-backoff = 1s
                shard-failure-backoff = 1s
                coordinator-failure-backoff = 1s
                retry-interval = 500ms
                updating-state-timeout = 10s
                handoff-timeout = 30s
              }
            }
            mailcluster-cluster-dispatcher {
              type = ForkJoinDispatcher
              throughput = 30
              dedicated-thread-pool { thread-count = 2, threadtype = background }
            }
            akka.persistence.journal.sql.circuit-breaker { max-failures = 5, call-timeout = 10s, reset-timeout = 3s }
            akka.persistence.snapshot-store.sql.circuit-breaker { max-failures = 5, call-timeout = 10s, reset-timeout = 3s }
            """);
    }
}
