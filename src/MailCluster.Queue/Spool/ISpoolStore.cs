namespace MailCluster.Queue.Spool;

/// <summary>
/// The message-body store: each accepted body is written once and shared by the domain queues of its
/// recipients. A body goes through three durable steps:
/// <list type="number">
/// <item><see cref="WriteAsync"/>: stored, not yet committed (not deliverable).</item>
/// <item><see cref="CommitAsync"/>: after every domain queue persisted its Enqueued event; only now may it be
/// delivered, and only now does the client get 250 (DESIGN invariant 1).</item>
/// <item>Or both at once, after the Enqueued events (<see cref="WriteCommittedAsync"/>), where the store can.</item>
/// <item><see cref="ReleaseAsync"/>: a domain queue is done with it; the body is deleted when no domain holds it.</item>
/// </list>
/// Every completed call is durable (fsync'd for SQLite, committed for PostgreSQL). Implementations batch
/// concurrent calls into one transaction (group commit).
/// </summary>
public interface ISpoolStore
{
    /// <summary>Creates the schema if it does not exist. Idempotent.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Stores the body, uncommitted, with one reference per recipient domain.</summary>
    Task WriteAsync(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains, CancellationToken cancellationToken);

    /// <summary>Marks the body deliverable.</summary>
    Task CommitAsync(string messageId, CancellationToken cancellationToken);

    /// <summary>True when <see cref="WriteCommittedAsync"/> stores a body of <paramref name="length"/> bytes in one
    /// durable round trip: the acceptor then writes the body only after the Enqueued events, instead of beside them
    /// and committing it afterwards. False by default (the write and the commit are two round trips).</summary>
    bool WritesCommittedAtOnce(int length) => false;

    /// <summary>Stores the body and marks it deliverable: <see cref="WriteAsync"/> then <see cref="CommitAsync"/>, in
    /// one transaction when <see cref="WritesCommittedAtOnce"/> says so (then faster than the two in sequence). For a
    /// caller whose Enqueued events are already durable (DESIGN invariant 1: a body is never committed before them).
    /// A failure may leave the body written and uncommitted (the caller deletes it, as after any failed acceptance).</summary>
    async Task WriteCommittedAsync(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains, CancellationToken cancellationToken)
    {
        await WriteAsync(messageId, body, domains, cancellationToken).ConfigureAwait(false);
        await CommitAsync(messageId, cancellationToken).ConfigureAwait(false);
    }

    Task<SpoolEntry> ReadAsync(string messageId, CancellationToken cancellationToken);

    /// <summary>Drops <paramref name="domain"/>'s reference; deletes the body when none is left. Idempotent.</summary>
    Task ReleaseAsync(string messageId, string domain, CancellationToken cancellationToken);

    /// <summary>Deletes an uncommitted body and its references (acceptance failed). Idempotent.</summary>
    Task DeleteUncommittedAsync(string messageId, CancellationToken cancellationToken);

    /// <summary>Round-trips to the database; throws when it is unreachable. Used by readiness.</summary>
    Task PingAsync(CancellationToken cancellationToken);
}

public enum SpoolStatus
{
    Missing,
    Uncommitted,
    Committed,
}

public sealed record SpoolEntry(SpoolStatus Status, ReadOnlyMemory<byte> Body)
{
    public static readonly SpoolEntry Missing = new(SpoolStatus.Missing, ReadOnlyMemory<byte>.Empty);
}
