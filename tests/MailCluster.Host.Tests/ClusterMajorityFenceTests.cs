using Akka.Actor;
using Akka.Cluster;
using MailCluster.Host.Composition;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace MailCluster.Host.Tests;

/// <summary>The fence over a real (one-node) cluster: it answers from Akka's current state and follows each change of it
/// (it keeps its answer only while the state snapshot is the same one).</summary>
public sealed class ClusterMajorityFenceTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("fence-test", """
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.loglevel = WARNING
        """);

    public void Dispose() => _system.Dispose();

    [Fact]
    public async Task Closed_before_the_node_joins_and_open_once_it_is_up()
    {
        var fence = new ClusterMajorityFence(new ServiceCollection().AddSingleton(_system).BuildServiceProvider());
        var cluster = Cluster.Get(_system);

        Assert.Equal("this node is not a live cluster member", fence.WhyClosed());
        Assert.Equal("this node is not a live cluster member", fence.WhyClosed()); // the same state: the same answer

        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(cluster.SelfAddress);
        await up.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // The read view's state follows the member events a moment after; the fence follows it.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (fence.WhyClosed() is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Null(fence.WhyClosed());
    }
}
