using MailCluster.Queue.Delivery;
using MailCluster.Queue.Events;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;

namespace MailCluster.Queue;

/// <summary>The delivery events' hook (issue 16): each write carries the details of the receptions and attempts it
/// records (<see cref="EventAnnotation"/>), in the same atomic PersistAll.</summary>
public sealed partial class DomainQueueActor
{
    private string? _node;

    /// <summary>This node as the delivery events name it: the cluster address's host and port.</summary>
    private string Node => _node ??= DeliveryQueueHosting.NodeName(Context.System);

    private IReadOnlyList<IQueueMessage> Annotated(
        GroupCommit<Akka.Actor.IActorRef>.Batch batch,
        IEnumerable<(string MessageId, DeliveryResult Result, DateTimeOffset At)> outcomes) =>
        EventAnnotation.Annotate(batch.Events, batch.Acknowledge, outcomes, Node);
}
