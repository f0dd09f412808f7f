using Akka.Actor;
using MailCluster.Ops.Views;
using MailCluster.Queue;
using MailCluster.Queue.Protocol;

namespace MailCluster.Ops.Tasks;

/// <summary>
/// One run of a bulk task over the whole cluster: every domain queue (or those of the filter's domain), page by page
/// in domain order (<see cref="ClusterQueues.AllAsync"/>); in each, the matching messages (listed in bounded pages,
/// then acted on one by one with the queue's own admin delete or bounce, so a bounce follows the DSN rules of
/// <c>DomainQueueState.DecideBounce</c>). Idempotent, which is what makes a resumed run correct: a deleted message is
/// gone and a bounced one has no pending recipient left, so neither is listed or counted again.
/// </summary>
public sealed class BulkTaskExecution(ClusterQueues queues, IActorRef region, TimeProvider clock)
{
    private const int ListPage = 1000;
    private const int InFlightRetries = 5;

    /// <summary>Progress is written at least this often (and every second): after a crash, at most this many acted-on
    /// messages are missing from the count.</summary>
    private const int ProgressEvery = 25;
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan InFlightPause = TimeSpan.FromSeconds(1);

    /// <summary>Runs the task from its stored count on.</summary>
    /// <param name="progress">Called every second or <see cref="ProgressEvery"/> messages with (done, skipped, state, error); false means the lease is
    /// lost (another node runs the task now) and the run stops.</param>
    public async Task RunAsync(BulkTask task, Func<long, long, string, string?, Task<bool>> progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(progress);
        long done = task.Done, skipped = 0, written = task.Done;
        var reported = clock.GetUtcNow();
        var unanswered = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var page in queues.AllAsync(task.Filter.QueueDomain, ct).ConfigureAwait(false))
        {
            unanswered.UnionWith(page.Unanswered);
            foreach (var row in page.Rows)
            {
                var key = QueueKey.Parse(row.Queue);
                var waiting = await MatchingAsync(key, task.Filter, ct).ConfigureAwait(false);
                for (int round = 0; waiting.Count > 0; round++)
                {
                    var busy = new List<string>();
                    foreach (var id in waiting)
                    {
                        var ack = await region.Ask<MessageAdminAck>(Command(task.Action, key, id), AskTimeout, ct).ConfigureAwait(false);
                        if (ack.Outcome == MessageAdminOutcome.Done)
                        {
                            done++;
                        }
                        else if (ack.Outcome == MessageAdminOutcome.InFlight)
                        {
                            busy.Add(id);
                        }

                        if (done - written >= ProgressEvery || clock.GetUtcNow() - reported >= TimeSpan.FromSeconds(1))
                        {
                            (reported, written) = (clock.GetUtcNow(), done);
                            if (!await progress(done, skipped, BulkTaskStates.Running, null).ConfigureAwait(false))
                            {
                                return;
                            }
                        }
                    }

                    // A message being delivered is neither deleted nor bounced: try again once its attempt is over.
                    if (round >= InFlightRetries)
                    {
                        skipped += busy.Count;
                        break;
                    }

                    waiting = busy;
                    if (waiting.Count > 0)
                    {
                        await Task.Delay(InFlightPause, clock, ct).ConfigureAwait(false);
                    }
                }

                // The heartbeat also while queues without a match go by, so the lease stays this node's.
                if (clock.GetUtcNow() - reported >= TimeSpan.FromSeconds(1))
                {
                    (reported, written) = (clock.GetUtcNow(), done);
                    if (!await progress(done, skipped, BulkTaskStates.Running, null).ConfigureAwait(false))
                    {
                        return;
                    }
                }
            }
        }

        var error = unanswered.Count > 0 ? $"not every queue was visited: {string.Join(", ", unanswered)} did not answer in time; run the task again" : null;
        await progress(done, skipped, error is null ? BulkTaskStates.Done : BulkTaskStates.Failed, error).ConfigureAwait(false);
    }

    private static IDomainQueueCommand Command(BulkAction action, QueueKey key, string id) =>
        action == BulkAction.Bounce ? new BounceMessage(key, id) : new DeleteMessage(key, id);

    /// <summary>The ids of the queue's matching messages, read in bounded pages before any is changed (acting while
    /// listing would shift the offsets).</summary>
    private async Task<List<string>> MatchingAsync(QueueKey key, BulkTaskFilter filter, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var ids = new List<string>();
        for (int? offset = 0; offset is { } from;)
        {
            var page = await region.Ask<QueueListing>(new ListMessages(key, from, ListPage), AskTimeout, ct).ConfigureAwait(false);
            ids.AddRange(page.Messages.Where(m => filter.Matches(m, now)).Select(m => m.MessageId));
            offset = page.NextOffset;
        }

        return ids;
    }
}
