using System.Collections.Immutable;
using MailCluster.Queue.Delivery;

namespace MailCluster.Queue.State;

/// <summary>
/// The volatile half of a domain queue, pure: every scheduling decision the queue makes from its state, the
/// destination's shaping and <c>now</c> (the clock is an argument, so tests drive it with fixed instants).
/// <see cref="DomainQueueState"/> is what survives a restart (the fold of the persisted events); this record is what
/// does not: the connections and the message each delivers, messages in flight, holds (commit grace, DSN retry), the
/// destination's traffic shaping and where the queue is in its life (running, passivating, stopping). They are two
/// records rather than one so that the persisted state stays a plain storage fold (snapshots, approved shapes) and a
/// restart visibly forgets exactly this record. The actor (<see cref="DomainQueueActor"/>) persists what this decides,
/// replies, starts the connections and DSN runs of a <see cref="SchedulerStep"/>, sets its one timer to
/// <see cref="SchedulerStep.WakeAt"/>, snapshots and passivates. Decisions about finished work are in
/// DeliveryScheduler.Outcomes.cs.
/// </summary>
internal sealed partial record DeliveryScheduler
{
    /// <summary>How long a stopping queue waits for deliveries already running (journal writes are always waited for).</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    /// <summary>How long a delivery that found its body not yet committed waits before it looks again.</summary>
    public static readonly TimeSpan UncommittedRecheck = TimeSpan.FromSeconds(2);

    private const string ConnectionPrefix = "connection-";

    public DeliveryScheduler(DomainShaping limits, QueueOptions options, RetryPolicy retry)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(retry);
        (Limits, Options, Retry) = (limits, options, retry);
    }

    /// <summary>The destination's shaping (connection cap, rate, messages per connection, idle timeout).</summary>
    public DomainShaping Limits { get; }

    public QueueOptions Options { get; }

    public RetryPolicy Retry { get; }

    /// <summary>Open (or opening) connections by number, with the delivery each runs (null: idle). A connection's
    /// number names its actor; numbers are never reused within one incarnation of the queue.</summary>
    public ImmutableSortedDictionary<int, Assignment?> Connections { get; private init; } = ImmutableSortedDictionary<int, Assignment?>.Empty;

    /// <summary>Messages being delivered, or whose outcome is waiting to be persisted and applied (so they are not
    /// sent again meanwhile).</summary>
    public ImmutableHashSet<string> InFlight { get; private init; } = ImmutableHashSet.Create<string>(StringComparer.Ordinal);

    /// <summary>Messages not to be started before the given time (waiting for their commit). Not an operator's hold:
    /// that one is persisted (<see cref="DomainQueueState.OnHold"/>).</summary>
    public ImmutableDictionary<string, DateTimeOffset> Holds { get; private init; } = ImmutableDictionary.Create<string, DateTimeOffset>(StringComparer.Ordinal);

    /// <summary>Messages whose DSN is being queued.</summary>
    public ImmutableHashSet<string> DsnRunning { get; private init; } = ImmutableHashSet.Create<string>(StringComparer.Ordinal);

    /// <summary>Messages whose DSN failed to queue, with the time of the next try.</summary>
    public ImmutableDictionary<string, DateTimeOffset> DsnHolds { get; private init; } = ImmutableDictionary.Create<string, DateTimeOffset>(StringComparer.Ordinal);

    public DestinationShaping Shaping { get; private init; } = DestinationShaping.Initial;

    /// <summary>The number of the last connection opened.</summary>
    public int LastConnection { get; private init; }

    /// <summary>The queue asked its shard to passivate (it ran empty); it keeps working until the shard's stop.</summary>
    public bool Passivating { get; private init; }

    /// <summary>Since when the queue has been empty and quiet with a connection still open (null: it is not). It
    /// passivates once that connection has closed or the destination's idle timeout has passed (see <see cref="Next"/>).</summary>
    public DateTimeOffset? EmptySince { get; private init; }

    /// <summary>Set once told to stop (passivation or hand-off): deliveries are waited for until then.</summary>
    public DateTimeOffset? StopBy { get; private init; }

    /// <summary>The effective connection cap: the destination's, bounded by the queue's own limit.</summary>
    public int Cap => DestinationShaping.Cap(Limits, Options.MaxConcurrentDeliveriesPerDomain);

    /// <summary>A delivery or DSN run of the message is under way, or its outcome is waiting to be persisted: an
    /// operator's delete or bounce is refused (its outcome could contradict the operator's choice).</summary>
    public bool Busy(string messageId) => InFlight.Contains(messageId) || DsnRunning.Contains(messageId);

    /// <summary>
    /// What the queue does next, given whether journal writes are pending (<paramref name="writing"/>: a write in
    /// flight or commands buffered for the next one).
    /// <para>Passivates when nothing is pending and no connection is open, or once it has been so with a connection
    /// open for the destination's idle timeout (an idle connection closes itself after that timeout, and its stop runs
    /// this step again; the timer bounds the wait if it does not). Not at the first empty moment: a queue that delivers
    /// as fast as mail arrives runs empty between messages, and passivating there closed its warm connections and
    /// restarted the entity (recovery, two remember-entities events): about one new outbound connection per 8 messages
    /// relayed instead of one per 100 (docs/BENCHMARKS.md, session s33). The price: an empty queue keeps its idle
    /// connections, and their destination slots, until their idle timeout, as a queue whose mail is not yet due always
    /// did. The queue stops cleanly when the shard says so. The shard answers Passivate,
    /// and starts a hand-off (rebalance, node leaving), with the queue's own stop message, not PoisonPill: commands
    /// already in the mailbox before it (an Enqueue that arrived as the queue ran empty, or just before the hand-off)
    /// must still be persisted and acknowledged, and a PoisonPill would stop the entity with that write in flight,
    /// leaving its session waiting for an ack that never comes (451 after the enqueue timeout; seen in the e2e
    /// benchmark). Once told to stop (<see cref="Stopping"/>), the queue starts nothing new and stops as soon as its
    /// journal writes are done and its deliveries have reported (their outcomes persisted, so the next owner does not
    /// send them again), but waits for deliveries at most <see cref="StopGrace"/>: the shard buffers the mail of every
    /// queue in it until all have stopped, so a slow remote MTA must not hold new mail past the enqueue timeout. A
    /// delivery cut short is retried by the next owner (a duplicate only if the remote had already accepted DATA).</para>
    /// <para>Mail that reached a passivating queue before the shard's stop would be forgotten by the shard
    /// (remember-entities) with that mail queued: the queue then stops with <see cref="SchedulerStep.WakeUp"/>; the
    /// shard buffers the wake-up for the passivating entity and, finding it buffered, starts the queue again once it
    /// has stopped.</para>
    /// <para>While the destination is suspended by an operator (<paramref name="suspendedUntil"/> after
    /// <paramref name="now"/>), no delivery starts and the wake-up is no earlier than the suspension's end; DSN runs go
    /// on (they are queued to the senders' domains). A suspension records nothing: no attempt is counted, no backoff
    /// grows and no recipient is deferred, so the suspension never hastens expiry. A recipient expires only as the
    /// outcome of an attempt (the last one at Retry:MaxAgeSeconds), so one whose maximum age passes during the suspension
    /// still gets its attempt when the suspension ends, and expires only if that attempt fails. The maximum age itself
    /// is not extended (unlike an operator's hold of one message): a suspension is about the destination, and the sender
    /// is owed an answer by the usual deadline.</para>
    /// </summary>
    public (DeliveryScheduler Scheduler, SchedulerStep Step) Next(DomainQueueState state, bool writing, DateTimeOffset now, DateTimeOffset? suspendedUntil = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        bool quiet = !writing && InFlight.IsEmpty && DsnRunning.IsEmpty;
        if (StopBy is { } stopBy)
        {
            if (quiet || (!writing && now >= stopBy))
            {
                return (this, SchedulerStep.Of(StepKind.Stop) with { WakeUp = Passivating && !state.IsEmpty });
            }

            // Start nothing (the next incarnation will); look again when the grace for deliveries is over.
            return (this, new SchedulerStep(StepKind.Run, [], [], now < stopBy ? stopBy : null));
        }

        if (quiet && state.IsEmpty)
        {
            return Empty(now);
        }

        var running = EmptySince is null ? this : this with { EmptySince = null };
        return running.Plan(state, now, suspendedUntil is { } until && until > now ? until : null);
    }

    /// <summary>Nothing pending: passivate now (no connection open, or the idle timeout has passed since the queue ran
    /// empty) or when the idle timeout has; see <see cref="Next"/>.</summary>
    private (DeliveryScheduler, SchedulerStep) Empty(DateTimeOffset now)
    {
        if (Passivating)
        {
            return (this, SchedulerStep.Of(StepKind.Idle));
        }

        var passivateAt = (EmptySince ?? now) + Limits.IdleTimeout;
        if (Connections.IsEmpty || now >= passivateAt)
        {
            return (this with { Passivating = true, EmptySince = null }, SchedulerStep.Of(StepKind.Passivate));
        }

        return (EmptySince is null ? this with { EmptySince = now } : this, new SchedulerStep(StepKind.Run, [], [], passivateAt));
    }

    /// <summary>Told to stop by the shard (passivation or hand-off); see <see cref="Next"/>.</summary>
    public DeliveryScheduler Stopping(DateTimeOffset now) => StopBy is null ? this with { StopBy = now + StopGrace } : this;

    /// <summary>
    /// Hands due messages to idle connections, and opens new ones while the destination's shaping allows (connection
    /// cap, rate per minute, backoff and probe: <see cref="DestinationShaping"/>); then starts due DSN runs.
    /// </summary>
    private (DeliveryScheduler, SchedulerStep) Plan(DomainQueueState state, DateTimeOffset now, DateTimeOffset? suspendedUntil)
    {
        // Runs after every change of every queue: it copies the record and its collections only for what it starts
        // (a step with nothing to start returns this scheduler itself; DeliverySchedulerTests).
        var next = this;
        List<DeliveryStart>? starts = null;
        foreach (var message in suspendedUntil is null ? state.Due(now) : [])
        {
            if (next.InFlight.Contains(message.MessageId) || next.HeldAt(message.MessageId, now))
            {
                continue;
            }

            if (!next.Shaping.CanStart(now, Limits.RatePerMinute))
            {
                break;
            }

            var connection = next.IdleConnection;
            if (connection is null && !next.Shaping.CanOpen(now, next.Connections.Count, Cap))
            {
                break;
            }

            int number = connection ?? next.LastConnection + 1;
            var recipients = message.DueAddresses(now);
            next = next with
            {
                Holds = next.Holds.Remove(message.MessageId),
                InFlight = next.InFlight.Add(message.MessageId),
                Connections = next.Connections.SetItem(number, new Assignment(message.MessageId, recipients)),
                Shaping = Limits.RatePerMinute is null ? next.Shaping : next.Shaping.Started(now), // starts are counted only for a rate
                LastConnection = Math.Max(number, next.LastConnection),
            };
            (starts ??= []).Add(new DeliveryStart(number, connection is null, message, recipients));
        }

        List<QueuedMessage>? dsnRuns = null;
        if (state.HasReportsDue)
        {
            foreach (var message in state.ReportsDue)
            {
                if (!next.DsnRunning.Contains(message.MessageId) && !next.DsnHeldAt(message.MessageId, now))
                {
                    (dsnRuns ??= []).Add(message);
                }
            }
        }

        if (dsnRuns is not null)
        {
            next = next with { DsnRunning = next.DsnRunning.Union(dsnRuns.Select(m => m.MessageId)) };
        }

        var wakeAt = next.WakeAt(state, now, suspendedUntil);
        return (next, starts is null && dsnRuns is null && wakeAt is null
            ? SchedulerStep.Nothing
            : new SchedulerStep(StepKind.Run, (IReadOnlyList<DeliveryStart>?)starts ?? [], (IReadOnlyList<QueuedMessage>?)dsnRuns ?? [], wakeAt));
    }

    /// <summary>
    /// The one wake-up: the earliest of a due recipient (after holds, the destination backoff, an operator's suspension
    /// and the rate limit) and
    /// a DSN waiting to be retried. Walks the state's next-attempt index only as far as needed: past the messages in
    /// flight or held, up to the first one that is neither (no later message can be due earlier), so the cost does not
    /// grow with the queue. A queue whose deliveries wait for a connection (every one busy at the cap, or the probe of
    /// a backing-off destination running) needs no wake-up for them: a connection that finishes wakes it.
    /// </summary>
    private DateTimeOffset? WakeAt(DomainQueueState state, DateTimeOffset now, DateTimeOffset? suspendedUntil)
    {
        DateTimeOffset? next = null;
        bool waitsForConnection = IdleConnection is null && (Connections.Count >= Cap || (Shaping.BackingOff && !Connections.IsEmpty));
        foreach (var (messageId, due) in waitsForConnection ? [] : state.ByNextAttempt.InOrder())
        {
            if (next is { } earliest && due >= earliest)
            {
                break;
            }

            if (!InFlight.Contains(messageId))
            {
                next = Earliest(next, Holds.TryGetValue(messageId, out var hold) && hold > due ? hold : due);
            }
        }

        if (next is { } first)
        {
            if (Shaping.BackingOff && Shaping.BackoffUntil > first)
            {
                first = Shaping.BackoffUntil;
            }

            if (suspendedUntil is { } until && until > first)
            {
                first = until;
            }

            var rate = Shaping.NextStart(now, Limits.RatePerMinute);
            next = rate > first ? rate : first;
        }

        foreach (var message in state.HasReportsDue ? state.ReportsDue : [])
        {
            if (!DsnRunning.Contains(message.MessageId))
            {
                next = Earliest(next, DsnHolds.TryGetValue(message.MessageId, out var dsnHold) ? dsnHold : now);
            }
        }

        return next;
    }

    /// <summary>The name of connection <paramref name="number"/>'s actor, a child of the queue.</summary>
    public static string ConnectionName(int number) => ConnectionPrefix + number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The number of the connection whose actor is named <paramref name="name"/> (null: not a connection).</summary>
    public static int? ConnectionNumber(string name) =>
        name.StartsWith(ConnectionPrefix, StringComparison.Ordinal) && int.TryParse(name.AsSpan(ConnectionPrefix.Length), out int n) ? n : null;

    private int? IdleConnection
    {
        get
        {
            foreach (var (number, assignment) in Connections)
            {
                if (assignment is null)
                {
                    return number;
                }
            }

            return null;
        }
    }

    private bool HeldAt(string messageId, DateTimeOffset now) => Holds.TryGetValue(messageId, out var hold) && hold > now;

    private bool DsnHeldAt(string messageId, DateTimeOffset now) => DsnHolds.TryGetValue(messageId, out var hold) && hold > now;

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset b) => a is null || b < a ? b : a;
}

/// <summary>The delivery a connection runs: the message and the recipients sent.</summary>
internal sealed record Assignment(string MessageId, IReadOnlyList<string> Recipients);

/// <summary>Start delivering <paramref name="Recipients"/> of <paramref name="Message"/> on connection
/// <paramref name="Connection"/>, which is opened for it when <paramref name="Opens"/>.</summary>
internal sealed record DeliveryStart(int Connection, bool Opens, QueuedMessage Message, IReadOnlyList<string> Recipients);

internal enum StepKind
{
    /// <summary>Start the deliveries and DSN runs of the step and set the timer to its wake-up (none: cancel it).</summary>
    Run,

    /// <summary>Nothing to do (passivation already asked for).</summary>
    Idle,

    /// <summary>Ask the shard to passivate the queue; nothing is pending.</summary>
    Passivate,

    /// <summary>Stop now (first waking the queue up through the region when <see cref="SchedulerStep.WakeUp"/>).</summary>
    Stop,
}

/// <param name="WakeAt">When to run the next step (null: no timer).</param>
internal sealed record SchedulerStep(StepKind Kind, IReadOnlyList<DeliveryStart> Starts, IReadOnlyList<QueuedMessage> DsnRuns, DateTimeOffset? WakeAt)
{
    /// <summary>With <see cref="StepKind.Stop"/>: mail arrived while the queue passivated; it must start again.</summary>
    public bool WakeUp { get; init; }

    /// <summary>A run that starts nothing and needs no timer (most steps: they run several times per message).</summary>
    public static readonly SchedulerStep Nothing = Of(StepKind.Run);

    public static SchedulerStep Of(StepKind kind) => new(kind, [], [], null);
}
