using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailCluster.Queue.Spool;

/// <summary>
/// The shared half of every spool store: argument checks and group commit. Mutations go through one
/// <see cref="GroupCommitQueue{TOp}"/>; a provider only says how to apply a batch in one transaction, how
/// to read, and how to create its schema.
/// <para>Domains are lower-cased (invariant) on write and release, so a reference can never be leaked by
/// a case difference between the two calls.</para>
/// <para>Disposing applies everything already queued, then closes the provider's connections.</para>
/// <para>The listings of <see cref="ISpoolInventory"/> are plain reads outside the group commit.</para>
/// </summary>
public abstract class GroupCommitSpoolStore : ISpoolStore, ISpoolInventory, IAsyncDisposable
{
    private readonly GroupCommitQueue<SpoolOp> queue;
    private int disposed;

    private protected GroupCommitSpoolStore(GroupCommitOptions? options, ILogger? logger)
    {
        Logger = logger ?? NullLogger.Instance;
        queue = new GroupCommitQueue<SpoolOp>(ApplyBatchWithHookAsync, op => op.Size, options ?? GroupCommitOptions.Default, Logger);
    }

    /// <summary>Transactions committed by the writer loop so far (one per batch, however many calls it held).</summary>
    public long BatchesCommitted => queue.BatchesCommitted;

    /// <summary>Batches whose transaction failed; each faulted all of its callers.</summary>
    public long BatchesFailed => queue.BatchesFailed;

    private protected ILogger Logger { get; }

    /// <summary>
    /// Test seam: runs inside each batch's transaction just before it commits; throwing rolls the batch back.
    /// </summary>
    internal Func<IReadOnlyList<SpoolOp>, Task>? BeforeCommitForTests { get; set; }

    public abstract Task InitializeAsync(CancellationToken cancellationToken);

    /// <remarks><paramref name="body"/> must not change until the returned task completes (it is not copied).</remarks>
    public Task WriteAsync(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains, CancellationToken cancellationToken) =>
        WriteCoreAsync(NewWrite(messageId, body, domains), cancellationToken);

    public Task CommitAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        return queue.EnqueueAsync(new CommitOp(messageId), cancellationToken);
    }

    /// <summary>False here: the write and the commit are two round trips (a provider that can do both in one
    /// transaction overrides both members).</summary>
    public virtual bool WritesCommittedAtOnce(int length) => false;

    /// <summary>The write, then the commit.</summary>
    public virtual async Task WriteCommittedAsync(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains, CancellationToken cancellationToken)
    {
        await WriteAsync(messageId, body, domains, cancellationToken).ConfigureAwait(false);
        await CommitAsync(messageId, cancellationToken).ConfigureAwait(false);
    }

    public Task ReleaseAsync(string messageId, string domain, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        return queue.EnqueueAsync(new ReleaseOp(messageId, NormaliseDomain(domain)), cancellationToken);
    }

    public Task DeleteUncommittedAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        return queue.EnqueueAsync(new DeleteUncommittedOp(messageId), cancellationToken);
    }

    public abstract Task<SpoolEntry> ReadAsync(string messageId, CancellationToken cancellationToken);

    public abstract Task PingAsync(CancellationToken cancellationToken);

    public Task<AgedBodyPage> ListOldReferencesAsync(TimeSpan minAge, SpoolAgeCursor? after, int limit, CancellationToken cancellationToken) =>
        ListAged(committed: true, minAge, after, limit, cancellationToken);

    public Task<AgedBodyPage> ListOldUncommittedAsync(TimeSpan minAge, SpoolAgeCursor? after, int limit, CancellationToken cancellationToken) =>
        ListAged(committed: false, minAge, after, limit, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await BeforeDisposeAsync().ConfigureAwait(false);
        await queue.DisposeAsync().ConfigureAwait(false);
        await DisposeCoreAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Applies <paramref name="ops"/> in order in ONE transaction and commits it (awaiting
    /// <paramref name="beforeCommit"/> just before the commit). Returns one entry per op: null when applied,
    /// or the exception for an op rejected without side effects. Throws (after rolling back) when the
    /// transaction as a whole failed.
    /// </summary>
    private protected abstract Task<Exception?[]> ApplyBatchAsync(IReadOnlyList<SpoolOp> ops, Func<Task> beforeCommit);

    /// <summary>
    /// Reads at most <paramref name="limit"/> bodies with the given commit state, created before the provider's clock
    /// minus <paramref name="minAge"/>, strictly after <paramref name="after"/> in (created, id) order, with their
    /// references: rows of (id, created, domain or null when none) ordered by created, id, domain.
    /// </summary>
    private protected abstract Task<AgedBodyPage> ListAgedAsync(bool committed, TimeSpan minAge, SpoolAgeCursor? after, int limit, CancellationToken cancellationToken);

    /// <summary>Queues a checked write; a provider may first move the body elsewhere (and queue a lighter op).</summary>
    private protected virtual Task WriteCoreAsync(WriteOp op, CancellationToken cancellationToken) => EnqueueAsync(op, cancellationToken);

    /// <summary>The write operation of <see cref="WriteAsync"/>: its domains normalised and distinct, never none.</summary>
    private protected static WriteOp NewWrite(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentNullException.ThrowIfNull(domains);
        var normalised = domains.Select(NormaliseDomain).Distinct(StringComparer.Ordinal).ToArray();
        if (normalised.Length == 0)
        {
            // A body without references could never be released: refuse it rather than leak it.
            throw new ArgumentException("A spooled message needs at least one recipient domain.", nameof(domains));
        }

        return new WriteOp(messageId, body, normalised);
    }

    /// <summary>Completes when <paramref name="op"/>'s batch is durable.</summary>
    private protected Task EnqueueAsync(SpoolOp op, CancellationToken cancellationToken) => queue.EnqueueAsync(op, cancellationToken);

    /// <summary>Waits for writes that <see cref="WriteCoreAsync"/> accepted but has not queued yet, so that a call made
    /// before disposal is applied like every queued one. Runs before the queue stops taking operations.</summary>
    private protected virtual Task BeforeDisposeAsync() => Task.CompletedTask;

    /// <summary>Releases provider resources; the writer loop has already stopped.</summary>
    private protected abstract ValueTask DisposeCoreAsync();

    private static string NormaliseDomain(string domain)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(domain);
        return domain.ToLowerInvariant();
    }

    private Task<AgedBodyPage> ListAged(bool committed, TimeSpan minAge, SpoolAgeCursor? after, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minAge, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ListAgedAsync(committed, minAge, after, limit, cancellationToken);
    }

    private Task<Exception?[]> ApplyBatchWithHookAsync(IReadOnlyList<SpoolOp> ops) =>
        ApplyBatchAsync(ops, () => BeforeCommitForTests?.Invoke(ops) ?? Task.CompletedTask);
}
