using System.Collections.Immutable;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.State;

/// <summary>
/// Queue administration, as pure decisions and folds like the rest of the state (STYLE habit 5): list (postqueue -p),
/// flush (postqueue -f), delete (postsuper -d) and bounce (give up now, the sender gets the usual DSN).
/// </summary>
public sealed partial record DomainQueueState
{
    /// <summary>RFC 3463: "other or undefined status", permanent; no server answered (code 0, so no Diagnostic-Code).</summary>
    public const string BouncedStatus = "5.0.0";

    public const string BouncedText = "delivery cancelled by the postmaster";

    /// <summary>
    /// A page of the messages with a pending recipient, in next-attempt order and then those on hold, starting at <paramref name="offset"/>.
    /// The page ends after <paramref name="limit"/> messages or once the estimated size of the page passes
    /// <paramref name="byteBudget"/> (at least one message is always listed), so a reply across nodes stays bounded
    /// whatever the recipients and errors hold. Costs O(offset + page).
    /// </summary>
    /// <param name="inFlight">Ids of messages being delivered now: their due recipients are <c>in-flight</c>.</param>
    public QueueListing List(int offset, int limit, IReadOnlySet<string> inFlight, DateTimeOffset now, int byteBudget)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        ArgumentNullException.ThrowIfNull(inFlight);
        int total = ByNextAttempt.Count + OnHold.Count;
        var page = new List<QueuedMessageView>(Math.Min(limit, total));
        int size = 0;

        // Messages on hold come after the due ones, by id: they have no place in next-attempt order.
        var listed = ByNextAttempt.InOrder().Concat(OnHold.Select(id => (MessageId: id, At: Messages[id].NextAttemptAt)));
        foreach (var (id, at) in listed.Skip(offset))
        {
            if (page.Count >= limit || (page.Count > 0 && size >= byteBudget))
            {
                break;
            }

            var message = Messages[id];
            bool running = inFlight.Contains(id);
            var recipients = message.Pending
                .Select(r => new RecipientView(r.Address, StateOf(message, r, running, now), r.Attempts, r.NextAttemptAt, r.LastError))
                .ToList();
            size += 128 + id.Length + message.Sender.Length + recipients.Sum(r => 96 + r.Address.Length + (r.LastError?.Length ?? 0));
            page.Add(new QueuedMessageView(id, message.Sender, message.ArrivedAt, at, recipients));
        }

        int next = offset + page.Count;
        return new QueueListing(Domain, total, page, next < total ? next : null);
    }

    private static string StateOf(QueuedMessage message, PendingRecipient recipient, bool running, DateTimeOffset now) =>
        running && recipient.NextAttemptAt <= now ? RecipientStates.InFlight
        : message.IsOnHold ? RecipientStates.OnHold
        : RecipientStates.Pending;

    /// <summary>How many messages a flush at <paramref name="now"/> makes due (those waiting for a later attempt).</summary>
    public int DeferredAt(DateTimeOffset now) => ByNextAttempt.Count - Due(now).Count();

    /// <summary>Flushes the queue (messages on hold stay on hold, as with postqueue -f): null when no recipient waits past <paramref name="now"/> (nothing to persist).</summary>
    public QueueFlushed? DecideFlush(DateTimeOffset now) => DeferredAt(now) > 0 ? new QueueFlushed(now) : null;

    /// <summary>Null when the queue does not hold the message.</summary>
    public MessageDeleted? DecideDelete(string messageId, DateTimeOffset now) =>
        Messages.ContainsKey(messageId) ? new MessageDeleted(messageId, now) : null;

    /// <summary>
    /// Gives up on the message: every pending recipient fails permanently (<see cref="BouncedStatus"/>, with the last
    /// transient error in the text), and the DSN policy decides the report as for any failure, so the sender gets the
    /// usual RFC 3464 bounce (never the null sender, never NOTIFY=NEVER). Null when the queue does not hold the message
    /// or it has no pending recipient.
    /// </summary>
    public AttemptCompleted? DecideBounce(string messageId, DateTimeOffset now, RetryPolicy retry)
    {
        ArgumentNullException.ThrowIfNull(retry);
        if (!Messages.TryGetValue(messageId, out var message) || message.Pending.IsEmpty)
        {
            return null;
        }

        var none = new DeliveryResult([], null, null);
        var results = message.Pending.Select(p => new RecipientResult(
            p.Address,
            RecipientResultKind.Failed,
            0,
            BouncedStatus,
            p.LastError is { } last ? $"{BouncedText}; last attempt: {last}" : BouncedText,
            null,
            DsnPolicy.ReportFor(message.Sender, message.NotifyOf(p.Address), RecipientResultKind.Failed, p.DelayWarned, now - message.ArrivedAt,
                TimeSpan.FromSeconds(retry.Options.DelayWarningSeconds), none)))
            .ToList();
        return new AttemptCompleted(messageId, now, results, null, null);
    }

    private DomainQueueState ApplyFlushed(QueueFlushed e)
    {
        var state = this;
        foreach (var message in ByNextAttempt.InOrder().Where(m => m.At > e.At).Select(m => Messages[m.MessageId]).ToList())
        {
            var pending = message.Pending.Select(p => p.NextAttemptAt > e.At ? p with { NextAttemptAt = e.At } : p).ToImmutableList();
            state = state.With(message, message with { Pending = pending });
        }

        return state;
    }
}

/// <summary>The states of a recipient in a listing.</summary>
public static class RecipientStates
{
    public const string Pending = "pending";
    public const string InFlight = "in-flight";

    /// <summary>The message is on an operator's hold: not attempted until released.</summary>
    public const string OnHold = "on-hold";
}
