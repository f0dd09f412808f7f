using MailCluster.Queue.Delivery;
using MailCluster.Queue.Dsn;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;

namespace MailCluster.Queue.State;

/// <summary>What finished work becomes: delivery runs, DSN runs, stopped connections, commit nudges, and what the
/// operator's flush, delete and bounce reset.</summary>
internal sealed partial record DeliveryScheduler
{
    /// <summary>RFC 3463 "other or undefined mail system status", transient: a delivery run that threw.</summary>
    public const string RunFailedStatus = "4.3.0";

    /// <summary>
    /// A delivery run reported. Its connection (<paramref name="connection"/>, null when the report did not come from
    /// one of this queue's connections) becomes idle, or is gone when it closes. The destination's backoff follows the
    /// connection attempt. Then the run becomes one of:
    /// <list type="bullet">
    /// <item>an outcome to persist (<see cref="RecordOutcome"/>); the message stays in flight until it is applied
    /// (<see cref="Settled"/>). A run that threw (<see cref="DeliveryFinished.Error"/>) is a transient failure of every
    /// recipient it sent (451 4.3.0 with the exception's message), so it counts as an attempt and the message expires at
    /// the maximum age like any other deferred one;</item>
    /// <item>a hold: the body is not committed yet (or, for now, missing: acceptance writes it side by side with the
    /// Enqueued events) while the message is younger than the commit grace; the run is tried again shortly;</item>
    /// <item>an abandonment (<see cref="MessageAbandoned"/>) once the grace is over: acceptance failed after some
    /// Enqueued events were written, or the body is gone. The grace is measured from the arrival to when the spool
    /// read began (<see cref="DeliveryFinished.ReadAt"/>), not to <paramref name="now"/>: a read that began inside the
    /// grace may have missed a commit that landed just before the grace ended, and the acceptor answers 250 only for a
    /// commit done inside the grace (<see cref="Acceptance.MessageAcceptor"/>). Measured to <paramref name="now"/>, a
    /// queue that handled the report late (its commands stashed behind a slow journal write after a failover) could
    /// abandon mail that was answered 250;</item>
    /// <item>nothing (the message is no longer queued).</item>
    /// </list>
    /// </summary>
    public (DeliveryScheduler Scheduler, FinishDecision Decision) Finished(DomainQueueState state, int? connection, DeliveryFinished finished, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(finished);
        // One copy of the record and of each collection it changes: this runs once per delivery.
        var connections = Connections;
        Assignment? assignment = null;
        if (connection is { } number && Connections.TryGetValue(number, out assignment))
        {
            connections = finished.Closing ? Connections.Remove(number) : Connections.SetItem(number, null);
        }

        var shaping = finished.ConnectFailure is { EveryHostUnreachable: true } ? Shaping.ConnectFailed(now, Retry)
            : finished.Result is not null && finished.ConnectFailure is null ? Shaping.Connected()
            : Shaping;

        state.Messages.TryGetValue(finished.MessageId, out var message);
        var result = finished.Result ?? (finished.Error is { } error && message is not null ? RunFailed(message, assignment, error, now) : null);

        // A recorded outcome keeps the message in flight until it is applied (Settled); anything else frees it.
        bool recorded = finished.Spool == SpoolStatus.Committed && result is not null;
        var next = this with
        {
            Connections = connections,
            Shaping = shaping,
            InFlight = recorded ? InFlight.Add(finished.MessageId) : InFlight.Remove(finished.MessageId),
        };
        switch (finished.Spool)
        {
            case SpoolStatus.Committed when result is not null:
                return (next, new RecordOutcome(finished.MessageId, result));
            case SpoolStatus.Uncommitted or SpoolStatus.Missing when message is not null
                && (finished.ReadAt ?? now) - message.ArrivedAt < TimeSpan.FromSeconds(Options.CommitGraceSeconds):
                return (next with { Holds = next.Holds.SetItem(finished.MessageId, now + UncommittedRecheck) }, FinishDecision.None);
            case SpoolStatus.Uncommitted or SpoolStatus.Missing when message is not null:
                var reason = finished.Spool == SpoolStatus.Missing ? "spool body missing" : "never committed";
                return (next, new Abandon(new MessageAbandoned(finished.MessageId, now, reason)));
            default:
                return (next, FinishDecision.None);
        }
    }

    /// <summary>The outcomes of <paramref name="messageIds"/> are applied to the state, or had nothing to record.</summary>
    public DeliveryScheduler Settled(IEnumerable<string> messageIds)
    {
        ArgumentNullException.ThrowIfNull(messageIds);
        var inFlight = InFlight;
        foreach (var id in messageIds)
        {
            inFlight = inFlight.Remove(id);
        }

        return ReferenceEquals(inFlight, InFlight) ? this : this with { InFlight = inFlight };
    }

    /// <summary>A connection actor stopped. One that stopped while holding a message (a crash, or a message sent as it
    /// closed) frees it.</summary>
    public DeliveryScheduler ConnectionStopped(int? connection)
    {
        if (connection is not { } number || !Connections.TryGetValue(number, out var assignment))
        {
            return this;
        }

        var next = this with { Connections = Connections.Remove(number) };
        return assignment is null ? next : next with { InFlight = InFlight.Remove(assignment.MessageId) };
    }

    /// <summary>A new message is applied: its first attempt waits for the commit nudge (the body is not deliverable
    /// before it), at most 5 s or the commit grace.</summary>
    public DeliveryScheduler Enqueued(string messageId, DateTimeOffset now) =>
        this with { Holds = Holds.SetItem(messageId, now + TimeSpan.FromSeconds(Math.Min(5, Options.CommitGraceSeconds))) };

    /// <summary>The body of <paramref name="messageId"/> is committed: it may start now. A lost nudge only delays the
    /// first attempt until the hold runs out.</summary>
    public DeliveryScheduler Committed(string messageId) => Holds.ContainsKey(messageId) ? this with { Holds = Holds.Remove(messageId) } : this;

    /// <summary>A DSN run reported: a failure that may pass is tried again after the retry policy's initial delay
    /// (nothing to persist); otherwise the state decides what to persist (null: nothing left to mark). A DSN to
    /// persist keeps the message among the running ones until its <see cref="DsnQueued"/> is applied
    /// (<see cref="Applied"/>): until then the state still says a DSN is due, and a step taken meanwhile (the
    /// group commit's completion runs one while the event is being written) would start a second run, i.e. a second
    /// DSN for the same reports.</summary>
    public (DeliveryScheduler Scheduler, DsnQueued? Event) DsnRunFinished(DomainQueueState state, DsnFinished finished, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(finished);
        if (finished.Retry)
        {
            return (this with
            {
                DsnRunning = DsnRunning.Remove(finished.MessageId),
                DsnHolds = DsnHolds.SetItem(finished.MessageId, now + TimeSpan.FromSeconds(Retry.Options.InitialSeconds)),
            }, null);
        }

        var queued = state.DecideDsnQueued(finished.MessageId, finished.Recipients, finished.DsnMessageId, now);
        var running = queued is null ? DsnRunning.Remove(finished.MessageId) : DsnRunning;
        return (this with { DsnRunning = running, DsnHolds = DsnHolds.Remove(finished.MessageId) }, queued);
    }

    /// <summary>The operator flushed the queue: holds (commit waits, DSN retries) are cleared once, and a destination
    /// that was backing off is probed now (traffic shaping still applies: one connection first).</summary>
    public DeliveryScheduler Flushed(DateTimeOffset now) => this with { Holds = Holds.Clear(), DsnHolds = DsnHolds.Clear(), Shaping = Shaping.Flushed(now) };

    /// <summary>
    /// What a persisted event, once applied to the state, resets here: a new message waits for its commit nudge
    /// (<see cref="Enqueued(string, DateTimeOffset)"/>); an attempt's message is settled and no longer held (an operator's
    /// bounce goes out through the state's reports at once); a deleted message is neither held nor retried; a recorded
    /// DSN's run is over (<see cref="DsnRunFinished"/>).
    /// </summary>
    public DeliveryScheduler Applied(IQueueMessage e, DateTimeOffset now) => e switch
    {
        Protocol.Enqueued enqueued => Enqueued(enqueued.MessageId, now),
        AttemptCompleted attempt when InFlight.Contains(attempt.MessageId) || Holds.ContainsKey(attempt.MessageId) =>
            this with { InFlight = InFlight.Remove(attempt.MessageId), Holds = Holds.Remove(attempt.MessageId) },
        MessageDeleted deleted => this with { Holds = Holds.Remove(deleted.MessageId), DsnHolds = DsnHolds.Remove(deleted.MessageId) },
        DsnQueued queued when DsnRunning.Contains(queued.MessageId) => this with { DsnRunning = DsnRunning.Remove(queued.MessageId) },
        _ => this,
    };

    /// <summary>Every recipient the run sent (the message's due ones when the run's connection is unknown) failed
    /// transiently with the exception's message.</summary>
    private static DeliveryResult RunFailed(QueuedMessage message, Assignment? sent, Exception error, DateTimeOffset now)
    {
        var recipients = sent?.MessageId == message.MessageId ? sent.Recipients : message.DueAddresses(now);
        var text = "delivery run failed: " + error.GetBaseException().Message;
        return new DeliveryResult([.. recipients.Select(r => new RecipientOutcome(r, OutcomeKind.Transient, 451, RunFailedStatus, text))], null, null);
    }
}

/// <summary>What a finished delivery run becomes (<see cref="DeliveryScheduler.Finished"/>).</summary>
internal abstract record FinishDecision
{
    public static readonly FinishDecision None = new NoDecision();

    private sealed record NoDecision : FinishDecision;
}

/// <summary>Persist this outcome (in the next group commit).</summary>
internal sealed record RecordOutcome(string MessageId, DeliveryResult Result) : FinishDecision;

/// <summary>Persist the abandonment; the message is dropped without delivery or bounce.</summary>
internal sealed record Abandon(MessageAbandoned Event) : FinishDecision;
