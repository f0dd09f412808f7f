using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using MailCluster.Queue;
using MailCluster.Queue.Protocol;
using Xunit;

namespace MailCluster.Ops.Tests;

public sealed class NodeMetricsTests
{
    [Fact]
    public async Task Readiness_and_each_failing_check_are_gauges_refreshed_at_every_scrape()
    {
        string? journal = "database unreachable";
        var registry = new NodeRegistry(
        [
            new ReadinessCheck("journal", _ => Task.FromResult<string?>(journal)),
            new ReadinessCheck("spool", _ => Task.FromResult<string?>(null)),
            new ReadinessCheck("cluster", _ => throw new InvalidOperationException("boom")),
        ]);

        var failing = await registry.SamplesAsync();
        journal = null;
        var recovered = await registry.SamplesAsync();

        Assert.Equal(0, failing["mailcluster_ready"]);
        Assert.Equal(1, failing["mailcluster_readiness_check_failing{check=\"journal\"}"]);
        Assert.Equal(0, failing["mailcluster_readiness_check_failing{check=\"spool\"}"]);
        Assert.Equal(1, failing["mailcluster_readiness_check_failing{check=\"cluster\"}"]);
        Assert.Equal(0, recovered["mailcluster_readiness_check_failing{check=\"journal\"}"]);
        Assert.Equal(1, recovered["mailcluster_readiness_check_failing{check=\"cluster\"}"]);
        Assert.Equal(0, recovered["mailcluster_ready"]);
    }

    [Fact]
    public async Task Without_an_actor_system_only_readiness_is_refreshed()
    {
        var samples = await new NodeRegistry([new ReadinessCheck("spool", _ => Task.FromResult<string?>(null))]).SamplesAsync();

        Assert.Equal(1, samples["mailcluster_ready"]);
        Assert.Equal(0, samples["mailcluster_cluster_members{status=\"up\"}"]);
        Assert.Equal(0, samples["mailcluster_queue_messages"]);
    }

    [Fact]
    public async Task Membership_shards_and_queue_depth_of_a_live_node_are_read_from_its_region()
    {
        var config = ConfigurationFactory.ParseString("""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            akka.cluster.sharding.state-store-mode = ddata
            akka.cluster.sharding.distributed-data.durable.keys = []
            akka.loglevel = WARNING
            """);
        var system = ActorSystem.Create("node-metrics-" + Guid.NewGuid().ToString("N")[..8], config);
        try
        {
            var cluster = Cluster.Get(system);
            var up = new TaskCompletionSource();
            cluster.RegisterOnMemberUp(() => up.TrySetResult());
            cluster.Join(cluster.SelfAddress);
            await up.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

            var region = await ClusterSharding.Get(system).StartAsync(
                "domain-queue",
                domain => Props.Create(() => new FakeQueue(domain)),
                ClusterShardingSettings.Create(system),
                new DomainQueueMessageExtractor(10));

            // Three queues come alive (each answers the region's GetQueueStatus); they hold 2 messages each.
            foreach (var domain in new[] { "a.test", "b.test", "c.test" })
            {
                await region.Ask<QueueStatus>(new GetQueueStatus(domain), TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            }

            var registry = new NodeRegistry(system: () => system, region: () => region);
            var samples = await registry.SamplesAsync();

            Assert.Equal(1, samples["mailcluster_cluster_members{status=\"up\"}"]);
            Assert.Equal(0, samples["mailcluster_cluster_unreachable_members"]);
            Assert.Equal(1, samples["mailcluster_cluster_leader"]);
            Assert.InRange(samples["mailcluster_shards_hosted"], 1, 3);
            Assert.Equal(3, samples["mailcluster_domain_queues_hosted"]);
            Assert.Equal(6, samples["mailcluster_queue_messages"]);
            Assert.Equal(9, samples["mailcluster_queue_recipients"]);
            Assert.Equal(3, samples["mailcluster_queue_deliveries_in_flight"]);
            Assert.Equal(0, samples["mailcluster_queue_status_unanswered"]);

            // An edge-only node has a proxy, which hosts nothing: it answers at once with no shards.
            var proxy = await ClusterSharding.Get(system).StartProxyAsync("edge-proxy", "delivery", new DomainQueueMessageExtractor(10));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var edge = await new NodeRegistry(system: () => system, region: () => proxy).SamplesAsync();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"scrape took {clock.Elapsed}");
            Assert.Equal(0, edge["mailcluster_shards_hosted"]);
            Assert.Equal(0, edge["mailcluster_domain_queues_hosted"]);
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>A domain queue that reports 2 messages, 3 recipients and 1 delivery in flight.</summary>
    private sealed class FakeQueue : ReceiveActor
    {
        public FakeQueue(string domain)
        {
            Receive<GetQueueStatus>(_ => Sender.Tell(new QueueStatus(domain, 2, 3, 1)));
        }
    }
}
