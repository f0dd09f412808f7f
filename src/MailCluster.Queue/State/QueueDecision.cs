using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.State;

/// <summary>
/// What the domain queue's actor does with one command (<see cref="DomainQueueCore{TReply}"/>): log
/// <see cref="Notes"/> at once; then, with an <see cref="Event"/>, persist and apply it and only then answer with
/// <see cref="Reply"/> and log <see cref="Done"/>; without one, answer at once. <see cref="Write"/> starts the next
/// group commit. Every decision ends with the scheduler's next step.
/// </summary>
/// <param name="Event">The one event to persist (null: nothing).</param>
/// <param name="Reply">The answer to the command's sender (null: none).</param>
/// <param name="Done">Logged once <see cref="Event"/> is applied.</param>
internal sealed record QueueDecision(IQueueMessage? Event = null, object? Reply = null, LogNote? Done = null)
{
    /// <summary>Nothing to persist or answer: only the next step.</summary>
    public static readonly QueueDecision None = new();

    /// <summary>Only the next group commit (a delivery outcome buffered) and the next step.</summary>
    public static readonly QueueDecision WriteOnly = new() { Write = true };

    /// <summary>Logged at once, before anything is persisted.</summary>
    public IReadOnlyList<LogNote> Notes { get; init; } = [];

    public bool Write { get; init; }

    public static QueueDecision Answer(object reply) => new(Reply: reply);
}

/// <summary>What to do with the queue's one timer after a step: cancel it, set it to fire after <see cref="Set"/>, or
/// (neither) leave it alone.</summary>
internal readonly record struct TimerChange(bool Cancel, TimeSpan? Set);

/// <summary>What applying one persisted event asks of the actor.</summary>
/// <param name="Before">For an <see cref="AttemptCompleted"/>: the message as it was before (the mail log's line).</param>
/// <param name="Release">The message whose spool body the queue no longer needs (null: none).</param>
/// <param name="Snapshot">Save a snapshot of the state now (<see cref="DomainQueueState.SnapshotDue"/>).</param>
internal readonly record struct AppliedEvent(QueuedMessage? Before, string? Release, bool Snapshot);
