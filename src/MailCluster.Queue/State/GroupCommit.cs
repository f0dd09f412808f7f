using System.Collections.Immutable;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.State;

/// <summary>
/// Group commit per entity (DESIGN "Storage"), pure: Enqueue commands and delivery outcomes that arrive while a
/// journal write is in flight are decided and persisted together in the next write, so a hot domain costs one journal
/// round trip per batch, not one per message or outcome, and the mailbox is never stashed. At most one write is in
/// flight: each batch is decided against the state that includes the previous one
/// (<see cref="DomainQueueState.DecideBatch"/>), which keeps Enqueue idempotent and an outcome from being decided twice.
/// <para>While a snapshot is saved and the older ones deleted, the next write waits: on SQLite both go to one file with
/// one write lock, and a writer that finds it taken backs off for 150 ms (Microsoft.Data.Sqlite's busy retry), which
/// stalled every session waiting for 250.</para>
/// </summary>
/// <typeparam name="TReply">Where an Enqueue's acknowledgement goes (the session's actor).</typeparam>
internal sealed record GroupCommit<TReply>
{
    public static readonly GroupCommit<TReply> Empty = new();

    /// <summary>Enqueue commands waiting for the next write.</summary>
    public ImmutableList<(Enqueue Command, TReply ReplyTo)> Enqueues { get; private init; } = [];

    /// <summary>Delivery outcomes waiting for the next write (decided when it starts).</summary>
    public ImmutableList<(string MessageId, DeliveryResult Result, DateTimeOffset At)> Outcomes { get; private init; } = [];

    /// <summary>The Enqueue commands of the write in flight (acknowledged once it is done).</summary>
    public ImmutableList<(Enqueue Command, TReply ReplyTo)> Writing { get; private init; } = [];

    public bool WriteInFlight { get; private init; }

    /// <summary>A write is in flight or commands wait for the next one: the queue may not stop or passivate.</summary>
    public bool Pending => WriteInFlight || !Enqueues.IsEmpty || !Outcomes.IsEmpty;

    /// <summary>Enqueue commands received but not yet applied to the state (buffered, or in the write in flight).</summary>
    public IEnumerable<string> Unapplied => Enqueues.Concat(Writing).Select(e => e.Command.MessageId);

    /// <summary>The orphan sweep's answer: the ids among <paramref name="asked"/> that <paramref name="state"/> holds, or
    /// that a write buffered or in flight will add (a "no" must mean that the queue will never need the body).</summary>
    public IReadOnlyList<string> Holding(DomainQueueState state, IEnumerable<string> asked)
    {
        ArgumentNullException.ThrowIfNull(state);
        var ids = asked.ToHashSet(StringComparer.Ordinal);
        return [.. state.Holding(ids).Concat(Unapplied.Where(ids.Contains)).Distinct(StringComparer.Ordinal)];
    }

    public GroupCommit<TReply> Add(Enqueue command, TReply replyTo) => this with { Enqueues = Enqueues.Add((command, replyTo)) };

    public GroupCommit<TReply> Add(string messageId, DeliveryResult result, DateTimeOffset at) => this with { Outcomes = Outcomes.Add((messageId, result, at)) };

    /// <summary>Starts the next write, unless one is in flight, a snapshot is being saved, or nothing waits (null).</summary>
    public (GroupCommit<TReply> Next, Batch? Write) Start(DomainQueueState state, bool snapshotting, RetryPolicy retry, Func<double> random)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (WriteInFlight || snapshotting || (Enqueues.IsEmpty && Outcomes.IsEmpty))
        {
            return (this, null);
        }

        var (events, nothingToRecord) = state.DecideBatch(Enqueues.Select(e => e.Command), Outcomes, retry, random);
        return (this with { Enqueues = [], Outcomes = [], Writing = Enqueues, WriteInFlight = true }, new Batch(events, nothingToRecord, Enqueues));
    }

    /// <summary>The write in flight is done (its events applied): its Enqueue commands are acknowledged.</summary>
    public GroupCommit<TReply> Written() => this with { Writing = [], WriteInFlight = false };

    /// <param name="Events">To persist, in order.</param>
    /// <param name="NothingToRecord">Messages whose outcome had nothing to record: settled at once.</param>
    /// <param name="Acknowledge">Enqueue commands to acknowledge once the write is done.</param>
    public sealed record Batch(IReadOnlyList<IQueueMessage> Events, IReadOnlyList<string> NothingToRecord, IReadOnlyList<(Enqueue Command, TReply ReplyTo)> Acknowledge);
}
