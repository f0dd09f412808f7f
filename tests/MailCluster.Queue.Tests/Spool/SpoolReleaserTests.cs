using System.Collections.Concurrent;
using Akka.Event;
using MailCluster.Queue.Spool;
using Xunit;

namespace MailCluster.Queue.Tests.Spool;

public class SpoolReleaserTests
{
    [Fact]
    public void Retry_delays_double_to_the_cap_with_bounded_jitter()
    {
        var retry = new ReleaseRetry(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), Jitter: 0.2);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300], Enumerable.Range(1, 11).Select(n => retry.DelayAfter(n, 0.5).TotalSeconds));
        Assert.Equal(0.8, retry.DelayAfter(1, 0).TotalSeconds, 3);
        Assert.Equal(360, retry.DelayAfter(40, 1).TotalSeconds, 3);
    }

    /// <summary>The store fails three releases (a database outage): the caller is not held, and the release is tried
    /// again after 20, 40 and 80 ms until it succeeds; the body is then released exactly as asked.</summary>
    [Fact]
    public async Task Failed_release_is_retried_with_backoff_until_it_succeeds()
    {
        var spool = new FlakySpool(failures: 3) { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var releaser = new SpoolReleaser(spool, TimeProvider.System, new ReleaseRetry(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(80), Jitter: 0));

        // The first try hangs (the database does not answer): Release must return at once all the same.
        var started = DateTime.UtcNow;
        var done = releaser.Release("M1", "example.com", NoLogger.Instance);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromMilliseconds(500), "Release waited for the store");
        Assert.False(done.IsCompleted);
        spool.Gate.SetResult();

        await done.WaitAsync(TimeSpan.FromSeconds(10));
        var calls = spool.Calls.ToList();
        Assert.Equal(4, calls.Count);
        Assert.All(calls, c => Assert.Equal(("M1", "example.com"), (c.MessageId, c.Domain)));
        Assert.Equal(["M1"], spool.Released);
        var gaps = calls.Zip(calls.Skip(1), (a, b) => (b.At - a.At).TotalMilliseconds).ToList();
        Assert.InRange(gaps[0], 15, 2000);
        Assert.InRange(gaps[1], 35, 2000);
        Assert.InRange(gaps[2], 75, 2000);
        Assert.Equal(0, releaser.Pending);
    }

    [Fact]
    public async Task Pending_counts_releases_waiting_for_a_retry()
    {
        var spool = new FlakySpool(failures: int.MaxValue);
        var releaser = new SpoolReleaser(spool, TimeProvider.System, new ReleaseRetry(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20), Jitter: 0));

        _ = releaser.Release("M1", "a.test", NoLogger.Instance);
        _ = releaser.Release("M2", "b.test", NoLogger.Instance);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (releaser.Pending < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal(2, releaser.Pending);
        spool.Heal();
        deadline = DateTime.UtcNow.AddSeconds(5);
        while (releaser.Pending > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal(0, releaser.Pending);
        Assert.Equal(["M1", "M2"], spool.Released.Order(StringComparer.Ordinal));
    }

    private sealed class FlakySpool(int failures) : ISpoolStore
    {
        private int _failuresLeft = failures;

        public TaskCompletionSource? Gate { get; init; }

        public ConcurrentQueue<(string MessageId, string Domain, DateTimeOffset At)> Calls { get; } = new();

        public ConcurrentBag<string> Released { get; } = [];

        public void Heal() => Volatile.Write(ref _failuresLeft, 0);

        public async Task ReleaseAsync(string messageId, string domain, CancellationToken cancellationToken)
        {
            Calls.Enqueue((messageId, domain, DateTimeOffset.UtcNow));
            if (Gate is { } gate && Calls.Count == 1)
            {
                await gate.Task.ConfigureAwait(false);
            }

            if (Interlocked.Decrement(ref _failuresLeft) >= 0)
            {
                throw new InvalidOperationException("database is down (test)");
            }

            Released.Add(messageId);
        }

        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task WriteAsync(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task CommitAsync(string messageId, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<SpoolEntry> ReadAsync(string messageId, CancellationToken cancellationToken) => Task.FromResult(SpoolEntry.Missing);

        public Task DeleteUncommittedAsync(string messageId, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
