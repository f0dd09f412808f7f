using Akka.Actor;
using Akka.Configuration;
using MailCluster.Host.Composition;
using MailCluster.Host.Configuration;
using Xunit;

namespace MailCluster.Host.Tests;

/// <summary>The cluster's failure-handling configuration (ClusterHocon): the operator's keys reach Akka's settings, and
/// the dedicated dispatcher the cluster actors are moved to exists (a name Akka cannot resolve stops the node).</summary>
public class ClusterHoconTests
{
    [Fact]
    public void Operator_keys_reach_the_detector_the_resolver_and_sharding()
    {
        var options = new ClusterNodeOptions { StableAfterSeconds = 5, HeartbeatPauseSeconds = 4, DownRemovalMarginSeconds = 2, RebalanceIntervalSeconds = 7 };
        var config = ConfigurationFactory.ParseString(ClusterHocon.For(options));

        Assert.Equal(TimeSpan.FromSeconds(5), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal(TimeSpan.FromSeconds(4), config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(TimeSpan.FromSeconds(2), config.GetTimeSpan("akka.cluster.down-removal-margin"));
        Assert.Equal(TimeSpan.FromSeconds(7), config.GetTimeSpan("akka.cluster.sharding.rebalance-interval"));
    }

    [Fact]
    public void Shipped_defaults_keep_a_false_down_slower_than_a_stall_the_load_runs_measured()
    {
        var config = ConfigurationFactory.ParseString(ClusterHocon.For(new ClusterNodeOptions()));
        var interval = config.GetTimeSpan("akka.cluster.failure-detector.heartbeat-interval");
        var pause = config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause");
        var stableAfter = config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after");
        var gossip = config.GetTimeSpan("akka.cluster.gossip-interval");

        // docs/BENCHMARKS.md "Failover": heartbeat intervals up to 3.3 s under full load at load averages up to 90 on 2
        // cores (up to 4.7 s at 100-130, beyond what the defaults tolerate: raise HeartbeatPauseSeconds there).
        Assert.True(interval + pause > TimeSpan.FromSeconds(3.3), "a measured stall would mark a live node unreachable");
        Assert.True(interval + pause + stableAfter >= TimeSpan.FromSeconds(5.5), "a measured stall plus 2 s would down a live node");

        // Stable-after must outlast the spread of the unreachability by gossip (a few rounds).
        Assert.True(stableAfter >= gossip * 4, "stable-after shorter than four gossip rounds");
    }

    [Fact]
    public void The_cluster_dispatcher_it_names_is_defined()
    {
        var config = ConfigurationFactory.ParseString(ClusterHocon.For(new ClusterNodeOptions()));
        var name = config.GetString("akka.cluster.use-dispatcher");
        using var system = ActorSystem.Create("hocon-test", config);

        Assert.Equal("mailcluster-cluster-dispatcher", name);
        Assert.True(system.Dispatchers.HasDispatcher(name));
        Assert.NotNull(system.Dispatchers.Lookup(name));
    }
}
