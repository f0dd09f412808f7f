using System.Collections.Immutable;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.State;

/// <summary>
/// The pure state of one domain queue (STYLE habit 5): <c>Decide</c> turns a command into events without
/// changing anything, <c>Apply</c> folds an event into a new state. The actor only persists, replies,
/// schedules and passivates. Apply is total and idempotent for replays: an event about an unknown message
/// or recipient changes nothing.
/// <para>Besides the messages, the state keeps three indexes that every Apply updates with the message it changes:
/// <see cref="DueIndex"/> (messages by next attempt), the ids of messages with DSN lines to queue, and the ids of messages
/// an operator holds (<see cref="OnHold"/>). So an event
/// costs O(log n) and "what is due / when next" never walks the whole queue (one hot domain holds 100,000s).</para>
/// </summary>
public sealed partial record DomainQueueState
{
    private readonly ImmutableHashSet<string> _reporting;

    public DomainQueueState(string domain, ImmutableDictionary<string, QueuedMessage> messages)
        : this(
            domain,
            messages,
            DueIndex.Of(messages.Values),
            messages.Values.Where(m => !m.Reports.IsEmpty).Select(m => m.MessageId).ToImmutableHashSet(StringComparer.Ordinal),
            messages.Values.Where(m => m.IsOnHold).Select(m => m.MessageId).ToImmutableSortedSet(StringComparer.Ordinal))
    {
    }

    private DomainQueueState(string domain, ImmutableDictionary<string, QueuedMessage> messages, DueIndex due, ImmutableHashSet<string> reporting, ImmutableSortedSet<string> onHold)
    {
        Domain = domain;
        Messages = messages;
        ByNextAttempt = due;
        _reporting = reporting;
        OnHold = onHold;
    }

    public string Domain { get; }

    public ImmutableDictionary<string, QueuedMessage> Messages { get; }

    /// <summary>Messages with a pending recipient and not on an operator's hold, by next attempt.</summary>
    public DueIndex ByNextAttempt { get; }

    public static DomainQueueState Empty(string domain) => new(domain, ImmutableDictionary<string, QueuedMessage>.Empty.WithComparers(StringComparer.Ordinal));

    public bool IsEmpty => Messages.IsEmpty;

    /// <summary>The ids among <paramref name="messageIds"/> this queue holds: a message stays in the state until every
    /// recipient is final and every DSN line is queued, and its spool body is released only after that.</summary>
    public IReadOnlyList<string> Holding(IEnumerable<string> messageIds)
    {
        ArgumentNullException.ThrowIfNull(messageIds);
        return [.. messageIds.Where(Messages.ContainsKey).Distinct(StringComparer.Ordinal)];
    }

    public int RecipientCount => Messages.Values.Sum(m => m.Pending.Count);

    /// <summary>Messages with DSN lines waiting to be queued.</summary>
    /// <summary>Whether <see cref="ReportsDue"/> has any (asked first on the hot path, where it rarely has).</summary>
    public bool HasReportsDue => !_reporting.IsEmpty;

    public IEnumerable<QueuedMessage> ReportsDue => _reporting.Select(id => Messages[id]);

    /// <summary>Enqueue is idempotent: a message id already queued yields no event (a retried Ask).</summary>
    public Enqueued? Decide(Enqueue command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return Messages.ContainsKey(command.MessageId)
            ? null
            : new Enqueued(command.Queue.EntityId, command.MessageId, command.Sender, command.Recipients, command.ArrivedAt, command.Dsn);
    }

    /// <summary>
    /// Classifies an attempt's outcomes: 2xx delivered, 5xx failed, 4xx deferred with the next attempt from
    /// <paramref name="retry"/>, or expired once the message is past its maximum age. Outcomes for recipients
    /// that are not pending are ignored.
    /// </summary>
    public AttemptCompleted? Decide(string messageId, DeliveryResult result, DateTimeOffset now, RetryPolicy retry, Func<double> random)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(retry);
        ArgumentNullException.ThrowIfNull(random);
        if (!Messages.TryGetValue(messageId, out var message))
        {
            return null;
        }

        var results = new List<RecipientResult>(result.Outcomes.Count);
        foreach (var outcome in result.Outcomes)
        {
            if (message.PendingOf(outcome.Recipient) is not { } pending)
            {
                continue;
            }

            var classified = Classify(message, pending, outcome, now, retry, random);
            var report = DsnPolicy.ReportFor(message.Sender, message.NotifyOf(pending.Address), classified.Kind, pending.DelayWarned,
                now - message.ArrivedAt, TimeSpan.FromSeconds(retry.Options.DelayWarningSeconds), result);
            results.Add(classified with { Report = report });
        }

        return results.Count == 0 ? null : new AttemptCompleted(messageId, now, results, result.RemoteMta, result.TlsProtocol) { Relay = result.Relay };
    }

    private static RecipientResult Classify(
        QueuedMessage message, PendingRecipient pending, RecipientOutcome outcome, DateTimeOffset now, RetryPolicy retry, Func<double> random)
    {
        switch (outcome.Kind)
        {
            case OutcomeKind.Delivered:
                return new RecipientResult(pending.Address, RecipientResultKind.Delivered, outcome.Code, outcome.EnhancedCode, outcome.Text, null);
            case OutcomeKind.Permanent:
                return new RecipientResult(pending.Address, RecipientResultKind.Failed, outcome.Code, outcome.EnhancedCode, outcome.Text, null);
            default:
                // The age without operator holds (QueuedMessage.AgeAt): time on hold never brings expiry closer.
                var delay = retry.NextDelay(pending.Attempts + 1, message.AgeAt(now), random());
                return delay is { } d
                    ? new RecipientResult(pending.Address, RecipientResultKind.Deferred, outcome.Code, outcome.EnhancedCode, outcome.Text, now + d)
                    : new RecipientResult(pending.Address, RecipientResultKind.Expired, outcome.Code, outcome.EnhancedCode, outcome.Text, null);
        }
    }

    public DomainQueueState Apply(object @event) => @event switch
    {
        Enqueued e => ApplyEnqueued(e),
        AttemptCompleted e => ApplyAttempt(e),
        MessageAbandoned e => Messages.TryGetValue(e.MessageId, out var gone) ? With(gone, null) : this,
        MessageDeleted e => Messages.TryGetValue(e.MessageId, out var deleted) ? With(deleted, null) : this,
        QueueFlushed e => ApplyFlushed(e),
        DsnQueued e => ApplyDsnQueued(e),
        MessageOnHold e => ApplyOnHold(e),
        MessageReleased e => ApplyReleased(e),
        Events.ReceptionDetails or Events.AttemptDetails => this, // context of the delivery events only (issue 16)
        _ => throw new ArgumentException($"Unknown event {@event.GetType().Name}", nameof(@event)),
    };

    private DomainQueueState ApplyEnqueued(Enqueued e)
    {
        if (Messages.ContainsKey(e.MessageId))
        {
            return this;
        }

        var pending = ImmutableList.CreateBuilder<PendingRecipient>();
        foreach (var r in e.Recipients)
        {
            pending.Add(new PendingRecipient(r, 0, e.ArrivedAt, null));
        }

        return With(null, new QueuedMessage(e.MessageId, e.Sender, e.ArrivedAt, pending.ToImmutable()) { Dsn = e.Dsn });
    }

    private DomainQueueState ApplyAttempt(AttemptCompleted e)
    {
        if (!Messages.TryGetValue(e.MessageId, out var message))
        {
            return this;
        }

        var pending = message.Pending;
        var reports = message.Reports;
        foreach (var r in e.Results)
        {
            // The message's list, or this attempt's edits of it: look the recipient up in the list being edited.
            var current = FindPending(pending, r.Recipient);
            if (current is null)
            {
                continue;
            }

            if (r.Report is { } action)
            {
                reports = reports.Add(new DsnReport(r.Recipient, action, r.EnhancedCode, r.Code, r.Text, e.RemoteMta, e.At));
            }

            pending = r.Kind == RecipientResultKind.Deferred && r.NextAttemptAt is { } next
                ? pending.Replace(current, current with
                {
                    Attempts = current.Attempts + 1,
                    NextAttemptAt = next,
                    LastError = $"{r.Code} {r.EnhancedCode} {r.Text}",
                    DelayWarned = current.DelayWarned || r.Report == DsnPolicy.Delayed,
                })
                : pending.Remove(current);
        }

        return With(message, message with { Pending = pending, Reports = reports });
    }

    private DomainQueueState ApplyDsnQueued(DsnQueued e)
    {
        if (!Messages.TryGetValue(e.MessageId, out var message))
        {
            return this;
        }

        var done = e.Recipients.ToHashSet(StringComparer.Ordinal);
        return With(message, message with { Reports = message.Reports.RemoveAll(r => done.Contains(r.Recipient)) });
    }

    private static PendingRecipient? FindPending(ImmutableList<PendingRecipient> pending, string address)
    {
        foreach (var p in pending)
        {
            if (string.Equals(p.Address, address, StringComparison.Ordinal))
            {
                return p;
            }
        }

        return null;
    }

    /// <summary>
    /// The one place the message map changes: <paramref name="before"/> (null: new) becomes <paramref name="after"/>
    /// (null: removed), and both indexes follow. A message with nothing pending and nothing to report is gone.
    /// </summary>
    private DomainQueueState With(QueuedMessage? before, QueuedMessage? after)
    {
        if (after is { IsDone: true })
        {
            after = null;
        }

        var id = (before ?? after)!.MessageId;
        var messages = after is null ? Messages.Remove(id) : Messages.SetItem(id, after);
        var reporting = after is { Reports.IsEmpty: false } ? _reporting.Add(id) : _reporting.Remove(id);
        var onHold = after is { IsOnHold: true } ? OnHold.Add(id) : OnHold.Remove(id);
        return new DomainQueueState(Domain, messages, ByNextAttempt.Update(before, after), reporting, onHold);
    }

    /// <summary>Messages with a recipient due at <paramref name="now"/>, earliest due first (new mail is due at its
    /// arrival, so fresh mail goes oldest first). Lazy: costs O(log n) plus the messages taken.</summary>
    public IEnumerable<QueuedMessage> Due(DateTimeOffset now)
    {
        foreach (var (id, at) in ByNextAttempt.InOrder())
        {
            if (at > now)
            {
                yield break;
            }

            yield return Messages[id];
        }
    }

    /// <summary>Decides that the reports of <paramref name="recipients"/> are done (their DSN was queued as
    /// <paramref name="dsnMessageId"/>); null when nothing is left to mark.</summary>
    public DsnQueued? DecideDsnQueued(string messageId, IReadOnlyList<string> recipients, string? dsnMessageId, DateTimeOffset now) =>
        Messages.TryGetValue(messageId, out var m) && m.Reports.Exists(r => recipients.Contains(r.Recipient, StringComparer.Ordinal))
            ? new DsnQueued(messageId, now, recipients, dsnMessageId)
            : null;

    public DomainQueueSnapshot ToSnapshot() => new(
        Domain,
        Messages.Values.Select(m => new QueuedMessageSnapshot(
            m.MessageId,
            m.Sender,
            m.ArrivedAt,
            m.Pending.Select(p => new PendingRecipientSnapshot(p.Address, p.Attempts, p.NextAttemptAt, p.LastError, p.DelayWarned ? true : null)).ToList(),
            m.Dsn,
            m.Reports.IsEmpty ? null : m.Reports.Select(r => new DsnReportSnapshot(r.Recipient, r.Action, r.Status, r.Code, r.Text, r.RemoteMta, r.At)).ToList(),
            m.OnHoldSince,
            m.HeldBefore > TimeSpan.Zero ? m.HeldBefore.TotalSeconds : null)).ToList());

    public static DomainQueueState FromSnapshot(DomainQueueSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var messages = snapshot.Messages.ToImmutableDictionary(
            m => m.MessageId,
            m => new QueuedMessage(
                m.MessageId,
                m.Sender,
                m.ArrivedAt,
                m.Pending.Select(p => new PendingRecipient(p.Address, p.Attempts, p.NextAttemptAt, p.LastError, p.DelayWarned ?? false)).ToImmutableList())
            {
                Dsn = m.Dsn,
                Reports = (m.Reports ?? []).Select(r => new DsnReport(r.Recipient, r.Action, r.Status, r.Code, r.Text, r.RemoteMta, r.At)).ToImmutableList(),
                OnHoldSince = m.OnHoldSince,
                HeldBefore = TimeSpan.FromSeconds(m.HeldSeconds ?? 0),
            });
        return new DomainQueueState(snapshot.Domain, messages);
    }
}
