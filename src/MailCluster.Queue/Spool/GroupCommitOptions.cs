namespace MailCluster.Queue.Spool;

/// <summary>
/// Bounds for group commit. A batch closes at <see cref="MaxBatchOperations"/> operations or
/// <see cref="MaxBatchBytes"/> body bytes, whichever comes first (a single larger body still forms a batch
/// of its own). <see cref="QueueCapacity"/> bounds the operations waiting for the writer: callers beyond it
/// wait (back-pressure) instead of buffering without limit (DESIGN invariant 5).
/// </summary>
public sealed record GroupCommitOptions
{
    public static readonly GroupCommitOptions Default = new();

    public int MaxBatchOperations { get; init; } = 256;

    public long MaxBatchBytes { get; init; } = 16 * 1024 * 1024;

    public int QueueCapacity { get; init; } = 4096;

    /// <summary>Run the writer loop on a thread of its own rather than on the thread pool: for a provider whose
    /// batches complete synchronously (SQLite blocks in fsync), so that the pool's workers never wait on the disk.</summary>
    public bool DedicatedThread { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchOperations, 1, nameof(MaxBatchOperations));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchBytes, 1, nameof(MaxBatchBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueCapacity, 1, nameof(QueueCapacity));
    }
}
