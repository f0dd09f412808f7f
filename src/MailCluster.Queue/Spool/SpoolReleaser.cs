using Akka.Event;

namespace MailCluster.Queue.Spool;

/// <summary>When a failed release is tried again: <see cref="Initial"/> doubling per failure up to <see cref="Max"/>,
/// each delay spread by ±<see cref="Jitter"/> so that the releases failed by one outage do not retry in one burst (an <see cref="ExponentialBackoff"/>).</summary>
public sealed record ReleaseRetry(TimeSpan Initial, TimeSpan Max, double Jitter = 0.2, int MaxPending = 100_000)
{
    public static readonly ReleaseRetry Default = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));

    /// <summary>The delay after the <paramref name="failures"/>-th failed try (1-based); <paramref name="random"/> in [0, 1).</summary>
    public TimeSpan DelayAfter(int failures, double random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(failures);
        return new ExponentialBackoff(Initial, 2, Max, Jitter).After(failures, random);
    }
}

/// <summary>
/// Releases spool bodies for the domain queues of this node (ISpoolStore.ReleaseAsync) without making them wait: a
/// release that fails (the database is down) is tried again in the background with <see cref="ReleaseRetry"/> backoff
/// until it succeeds, so the body does not stay for ever once its last domain is done. Node-wide rather than per
/// entity: a queue that passivates or is handed off right after its release failed does not take the retry with it.
/// Releases are idempotent, so a retry after an ambiguous failure is safe. In memory only: a process that dies with
/// releases still pending leaves those bodies behind until the orphan sweep (<see cref="Sweep.OrphanSweep"/>) frees them;
/// at most <see cref="ReleaseRetry.MaxPending"/> are kept.
/// </summary>
public sealed class SpoolReleaser(ISpoolStore spool, TimeProvider clock, ReleaseRetry retry)
{
    private int _pending;

    public SpoolReleaser(ISpoolStore spool, TimeProvider clock)
        : this(spool, clock, ReleaseRetry.Default)
    {
    }

    /// <summary>Releases that failed and wait for their next try.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Starts the release and returns at once; completion (after any retries) is the returned task, which never faults.
    /// Called directly, not through <c>Task.Run</c>: the store only queues the release for its group commit before its
    /// first await, so the caller (a domain queue, once per delivered message) is not held, and no thread hop is spent.</summary>
    public Task Release(string messageId, string domain, ILoggingAdapter log)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(log);
        return ReleaseAsync(messageId, domain, log);
    }

    private async Task ReleaseAsync(string messageId, string domain, ILoggingAdapter log)
    {
        int failures = 0;
        try
        {
            while (true)
            {
                try
                {
                    await spool.ReleaseAsync(messageId, domain, CancellationToken.None).ConfigureAwait(false);
                    if (failures > 0)
                    {
                        log.Info("Released spool body {0} for {1} after {2} failed tries", messageId, domain, failures);
                    }

                    return;
                }
#pragma warning disable CA1031 // Any failure of the store is retried; the caller does not wait for the outcome.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    failures++;
                    if (failures == 1 && Interlocked.Increment(ref _pending) > retry.MaxPending)
                    {
                        log.Error(ex, "Releasing spool body {0} for {1} failed and {2} releases already wait; the orphan sweep frees this body later",
                            messageId, domain, retry.MaxPending);
                        return;
                    }

                    var delay = retry.DelayAfter(failures, Random.Shared.NextDouble());
                    log.Warning(ex, "Releasing spool body {0} for {1} failed (try {2}); retrying in {3:0.0}s", messageId, domain, failures, delay.TotalSeconds);
                    await Task.Delay(delay, clock).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (failures > 0)
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }
}
