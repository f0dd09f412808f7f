using Akka.Actor;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Serialization;
using MailCluster.Queue.WarmUp;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace MailCluster.Queue.Tests.WarmUp;

/// <summary>The queue's in-memory warm-up runs one message's whole life through the domain queue's code and the
/// serializer (what a fresh node's first message would otherwise compile), and touches nothing outside the process.</summary>
public sealed class QueueCodeWarmUpTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("queue-code-warm-up", Akka.Configuration.ConfigurationFactory.ParseString($$"""
        akka.actor.serializers.mc = "{{typeof(QueueSerializer).AssemblyQualifiedName}}"
        akka.actor.serialization-bindings { "{{typeof(IQueueMessage).AssemblyQualifiedName}}" = mc }
        """));

    public void Dispose() => _system.Dispose();

    [Fact]
    public void A_message_is_enqueued_deferred_delivered_and_snapshotted_and_every_event_round_trips()
    {
        // Enqueued, the deferred attempt, the delivered one, the snapshot: each written and read by the serializer.
        Assert.Equal(4, QueueCodeWarmUp.Run(_system));
        Assert.Equal(4, QueueCodeWarmUp.Run(_system)); // again (a restarted host): nothing of the first run is kept
    }

    [Fact]
    public void A_delivery_node_registers_it_among_the_code_warm_ups_and_an_edge_only_node_does_not()
    {
        var delivery = new ServiceCollection().AddSingleton(_system).AddDurablePathWarmUp(journal: true, spool: false).BuildServiceProvider();
        var edge = new ServiceCollection().AddSingleton(_system).AddDurablePathWarmUp(journal: false, spool: true).BuildServiceProvider();

        Assert.IsType<QueueCodeWarmUp>(Assert.Single(delivery.GetServices<ICodeWarmUp>()));
        Assert.Empty(edge.GetServices<ICodeWarmUp>());
    }

    [Fact]
    public void In_an_actor_system_that_does_not_bind_the_queue_serializer_it_uses_the_serializer_itself()
    {
        using var plain = ActorSystem.Create("queue-code-warm-up-plain");

        Assert.Equal(4, QueueCodeWarmUp.Run(plain)); // Akka's default serializer could not read these records back
    }
}
