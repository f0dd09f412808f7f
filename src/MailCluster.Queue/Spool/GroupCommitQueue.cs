using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace MailCluster.Queue.Spool;

/// <summary>
/// Group commit: callers enqueue operations; one writer loop drains whatever is queued (up to the batch
/// bounds) and hands it to <c>applyBatch</c>, which must apply the whole batch in ONE transaction.
/// <list type="bullet">
/// <item><c>applyBatch</c> returns one entry per operation: <c>null</c> = applied, or the exception for an
/// operation that was rejected without side effects (e.g. a duplicate id); the others still commit.</item>
/// <item>If <c>applyBatch</c> throws, the transaction was rolled back (or its outcome is unknown): every
/// caller of that batch is faulted with that exception and the loop goes on with the next batch.</item>
/// <item>Cancellation is honoured until an operation joins a batch; after that the caller gets the batch's
/// real outcome, so a completed task always tells the truth about durability.</item>
/// <item>Callers' continuations never run on the writer loop (<see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>).</item>
/// <item>With <see cref="GroupCommitOptions.DedicatedThread"/> the loop owns a thread and waits on it (for the next
/// operation and for <c>applyBatch</c>), so a provider that blocks in fsync never holds a thread-pool worker.</item>
/// </list>
/// </summary>
internal sealed class GroupCommitQueue<TOp> : IAsyncDisposable
{
    private readonly Channel<Pending> channel;
    private readonly Func<IReadOnlyList<TOp>, Task<Exception?[]>> applyBatch;
    private readonly Func<TOp, long> sizeOf;
    private readonly GroupCommitOptions options;
    private readonly ILogger logger;
    private readonly Task loop;
    private long batchesCommitted;
    private long batchesFailed;

    public GroupCommitQueue(
        Func<IReadOnlyList<TOp>, Task<Exception?[]>> applyBatch,
        Func<TOp, long> sizeOf,
        GroupCommitOptions options,
        ILogger logger)
    {
        options.Validate();
        this.applyBatch = applyBatch;
        this.sizeOf = sizeOf;
        this.options = options;
        this.logger = logger;
        channel = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        loop = options.DedicatedThread ? RunOnDedicatedThread() : Task.Run(RunAsync);
    }

    /// <summary>Transactions committed so far (one per batch); lets tests prove batching.</summary>
    public long BatchesCommitted => Interlocked.Read(ref batchesCommitted);

    public long BatchesFailed => Interlocked.Read(ref batchesFailed);

    /// <summary>Completes when <paramref name="op"/> is durable; faults when its batch or the op itself failed.</summary>
    public async Task EnqueueAsync(TOp op, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new Pending(op, sizeOf(op), cancellationToken);
        try
        {
            await channel.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            throw new ObjectDisposedException("The spool store has been disposed.", e);
        }

        await pending.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>Stops accepting operations, applies everything already queued, then ends the loop.</summary>
    public async ValueTask DisposeAsync()
    {
        channel.Writer.TryComplete();
        await loop.ConfigureAwait(false);
    }

    private Task RunOnDedicatedThread()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                var reader = channel.Reader;
                var batch = new List<Pending>(options.MaxBatchOperations);
                while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    TakeBatch(reader, batch);
                    if (batch.Count > 0)
                    {
                        ExecuteAsync(batch).GetAwaiter().GetResult();
                        batch.Clear();
                    }
                }

                done.TrySetResult();
            }
#pragma warning disable CA1031 // ExecuteAsync catches every batch failure; anything else ends the loop and is reported by DisposeAsync.
            catch (Exception e)
#pragma warning restore CA1031
            {
                done.TrySetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "spool writer",
        };
        thread.Start();
        return done.Task;
    }

    private async Task RunAsync()
    {
        var reader = channel.Reader;
        var batch = new List<Pending>(options.MaxBatchOperations);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            TakeBatch(reader, batch);
            if (batch.Count > 0)
            {
                await ExecuteAsync(batch).ConfigureAwait(false);
                batch.Clear();
            }
        }
    }

    /// <summary>Moves queued operations into <paramref name="batch"/> up to the batch bounds, dropping cancelled ones.</summary>
    private void TakeBatch(ChannelReader<Pending> reader, List<Pending> batch)
    {
        long bytes = 0;
        while (batch.Count < options.MaxBatchOperations
               && reader.TryPeek(out var next)
               && (batch.Count == 0 || bytes + next.Size <= options.MaxBatchBytes))
        {
            reader.TryRead(out _);
            if (next.CancellationToken.IsCancellationRequested)
            {
                next.Completion.TrySetCanceled(next.CancellationToken);
                continue;
            }

            batch.Add(next);
            bytes += next.Size;
        }
    }

    private async Task ExecuteAsync(List<Pending> batch)
    {
        Exception?[] results;
        try
        {
            results = await applyBatch(batch.ConvertAll(p => p.Op)).ConfigureAwait(false);
            if (results.Length != batch.Count)
            {
                throw new InvalidOperationException($"Batch applier returned {results.Length} results for {batch.Count} operations.");
            }
        }
#pragma warning disable CA1031 // Any failure of the transaction belongs to the callers; the loop must survive it.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref batchesFailed);
            SpoolLog.BatchFailed(logger, batch.Count, e);
            foreach (var pending in batch)
            {
                pending.Completion.TrySetException(e);
            }

            return;
        }

        Interlocked.Increment(ref batchesCommitted);
        for (var i = 0; i < batch.Count; i++)
        {
            if (results[i] is { } error)
            {
                batch[i].Completion.TrySetException(error);
            }
            else
            {
                batch[i].Completion.TrySetResult();
            }
        }
    }

    private sealed class Pending(TOp op, long size, CancellationToken cancellationToken)
    {
        public TOp Op { get; } = op;

        public long Size { get; } = size;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
