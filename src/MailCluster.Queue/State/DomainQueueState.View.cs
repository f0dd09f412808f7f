using MailCluster.Queue.Views;

namespace MailCluster.Queue.State;

/// <summary>
/// The read-only view of a queue for the cluster-wide summary and the message inspection (issue 14): pure snapshots
/// of the state, nothing decided, nothing persisted.
/// </summary>
public sealed partial record DomainQueueState
{
    /// <summary>A recipient tried at least once, waiting for its next attempt.</summary>
    public const string DeferredState = "deferred";

    /// <summary>
    /// The queue's summary row: <c>Held</c> counts the messages on an operator's hold; the suspension is the
    /// destination's (<paramref name="suspension"/>, kept in the cluster database, not in this state). Costs
    /// O(recipients): the summary is asked by an operator, not on the delivery path.
    /// </summary>
    /// <param name="inFlight">Ids of messages being delivered now (the scheduler's).</param>
    public QueueSummaryRow Summarize(IReadOnlySet<string> inFlight, DateTimeOffset now, Suspensions.DestinationSuspension? suspension = null)
    {
        ArgumentNullException.ThrowIfNull(inFlight);
        int pending = 0, deferred = 0;
        PendingRecipient? latest = null;
        DateTimeOffset? oldest = null;
        foreach (var message in Messages.Values)
        {
            oldest = oldest is { } o && o <= message.ArrivedAt ? o : message.ArrivedAt;
            foreach (var r in message.Pending)
            {
                if (r.Attempts > 0 && !(inFlight.Contains(message.MessageId) && r.NextAttemptAt <= now))
                {
                    deferred++;
                }
                else
                {
                    pending++;
                }

                // The next attempt is scheduled from the last one: the latest next attempt belongs to the latest reply.
                if (r.LastError is not null && (latest is null || r.NextAttemptAt > latest.NextAttemptAt))
                {
                    latest = r;
                }
            }
        }

        var key = QueueKey.Parse(Domain);
        int running = Messages.Keys.Count(inFlight.Contains);
        return new QueueSummaryRow(Domain, key.Domain, Messages.Count, pending, deferred, OnHoldCount, running, oldest, latest?.LastError,
            suspension?.Until, suspension?.Reason, null);
    }

    /// <summary>What this queue holds of <paramref name="messageId"/>: each pending recipient with its state, attempts,
    /// last reply and next attempt, and the DSN lines still to be queued. <c>Found</c> is false when the queue does
    /// not hold it.</summary>
    public QueuedMessageDetail Inspect(string messageId, IReadOnlySet<string> inFlight, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        ArgumentNullException.ThrowIfNull(inFlight);
        if (!Messages.TryGetValue(messageId, out var message))
        {
            return new QueuedMessageDetail(Domain, messageId, false, "", default, [], [], null);
        }

        bool running = inFlight.Contains(messageId);
        var recipients = message.Pending.Select(r => new RecipientDetail(
            r.Address,
            running && r.NextAttemptAt <= now ? RecipientStates.InFlight
            : message.IsOnHold ? RecipientStates.OnHold
            : r.Attempts > 0 ? DeferredState : RecipientStates.Pending,
            r.Attempts,
            r.LastError,
            r.NextAttemptAt)).ToList();
        var reports = message.Reports.Select(r => new RecipientDetail(
            r.Recipient, r.Action, 0, r.Code > 0 ? $"{r.Code} {r.Status} {r.Text}" : $"{r.Status} {r.Text}", null)).ToList();
        return new QueuedMessageDetail(Domain, messageId, true, message.Sender, message.ArrivedAt, recipients, reports, null);
    }
}
