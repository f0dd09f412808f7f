using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.State;

/// <summary>The decisions behind the queue's group commit and its snapshot cadence.</summary>
public sealed partial record DomainQueueState
{
    /// <summary>
    /// Decides one group commit (DESIGN "Storage"): the Enqueue commands and delivery outcomes that arrived while the
    /// previous write was in flight, decided together against the state that includes that write, which keeps Enqueue
    /// idempotent (a message id twice in the batch is queued once) and an outcome from being decided twice.
    /// </summary>
    /// <returns>The events to persist, in order, and the messages whose outcome had nothing to record (e.g. only
    /// unknown recipients): they are settled at once.</returns>
    public (IReadOnlyList<IQueueMessage> Events, IReadOnlyList<string> NothingToRecord) DecideBatch(
        IEnumerable<Enqueue> enqueues, IEnumerable<(string MessageId, DeliveryResult Result, DateTimeOffset At)> outcomes, RetryPolicy retry, Func<double> random)
    {
        ArgumentNullException.ThrowIfNull(enqueues);
        ArgumentNullException.ThrowIfNull(outcomes);
        var events = new List<IQueueMessage>();
        string? first = null; // a set of the ids only once a second message is in the batch (most hold one)
        HashSet<string>? seen = null;
        foreach (var command in enqueues)
        {
            if (Decide(command) is not { } e)
            {
                continue;
            }

            if (first is null)
            {
                first = e.MessageId;
            }
            else if (!(seen ??= new HashSet<string>(StringComparer.Ordinal) { first }).Add(e.MessageId))
            {
                continue;
            }

            events.Add(e);
        }

        List<string>? nothing = null;
        foreach (var (messageId, result, at) in outcomes)
        {
            if (Decide(messageId, result, at, retry, random) is { } attempt)
            {
                events.Add(attempt);
            }
            else
            {
                (nothing ??= []).Add(messageId);
            }
        }

        return (events, (IReadOnlyList<string>?)nothing ?? []);
    }

    /// <summary>The message an event is about; null for events about the whole queue.</summary>
    public static string? MessageOf(IQueueMessage e) => e switch
    {
        Enqueued x => x.MessageId,
        AttemptCompleted x => x.MessageId,
        MessageAbandoned x => x.MessageId,
        DsnQueued x => x.MessageId,
        MessageDeleted x => x.MessageId,
        MessageOnHold x => x.MessageId,
        MessageReleased x => x.MessageId,
        _ => null,
    };

    /// <summary>
    /// Whether to snapshot after <paramref name="eventsSinceSnapshot"/> events: after <paramref name="snapshotEvery"/>
    /// events, or after as many events as the queue holds messages, whichever is more. A snapshot costs O(queue size)
    /// (and, on SQLite, holds the journal's write lock while it is stored); spacing them in proportion keeps that O(1)
    /// per event (a deep queue was re-serialised in full every 200 events: quadratic), while recovery still loads one
    /// snapshot and replays O(queue size) events.
    /// </summary>
    public bool SnapshotDue(int eventsSinceSnapshot, int snapshotEvery) => eventsSinceSnapshot >= Math.Max(snapshotEvery, Messages.Count);
}
