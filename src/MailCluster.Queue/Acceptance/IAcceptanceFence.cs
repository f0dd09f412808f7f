namespace MailCluster.Queue.Acceptance;

/// <summary>
/// The last check before a message's commit (<see cref="MessageAcceptor"/>): a node that may be on the losing side of
/// a network partition must not commit new mail, because it cannot know whether its domain queues are about to be
/// started elsewhere. A closed fence fails the acceptance before the commit, so the client gets 451 and nothing
/// written for the message is ever delivered (the body is deleted uncommitted; its Enqueued events are abandoned).
/// </summary>
public interface IAcceptanceFence
{
    /// <summary>Null when this node may commit; otherwise why not (logged with the 451).</summary>
    string? WhyClosed();
}
