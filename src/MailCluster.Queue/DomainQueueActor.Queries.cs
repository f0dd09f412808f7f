using MailCluster.Queue.Views;

namespace MailCluster.Queue;

/// <summary>
/// The read-only questions of the cluster-wide view (issue 14): the queue's summary row and what it holds of one
/// message. Answered from the state and the scheduler's in-flight set; nothing is persisted. A queue started only to
/// answer passivates again (<see cref="Answer"/>).
/// </summary>
public sealed partial class DomainQueueActor
{
    private void ReceiveQueries()
    {
        Command<GetQueueSummary>(_ =>
        {
            var now = Now;
            Answer(_state.Summarize(_scheduler.InFlight, now, _services.Suspensions.For(_key.Domain, now)));
        });
        Command<InspectMessage>(i => Answer(_state.Inspect(i.MessageId, _scheduler.InFlight, Now)));
    }
}
