using MailCluster.Queue;
using MailCluster.Queue.Spool;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>The one backoff and the whole schedule of each of its uses (the recipient retry schedule is asserted whole
/// in <see cref="RetryPolicyTests"/>).</summary>
public class ExponentialBackoffTests
{
    [Fact]
    public void Grows_by_the_factor_up_to_the_cap()
    {
        var backoff = new ExponentialBackoff(TimeSpan.FromSeconds(1), 3, TimeSpan.FromSeconds(100));
        Assert.Equal([1, 3, 9, 27, 81, 100, 100], Enumerable.Range(1, 7).Select(n => backoff.After(n).TotalSeconds));
        Assert.Equal(100, backoff.After(int.MaxValue).TotalSeconds); // the power overflows to infinity; the cap holds
    }

    [Theory]
    [InlineData(0.0, 8)]
    [InlineData(0.5, 10)]
    [InlineData(0.75, 11)]
    public void Jitter_spreads_each_delay_by_the_injected_sample(double random, double seconds)
    {
        var backoff = new ExponentialBackoff(TimeSpan.FromSeconds(10), 2, TimeSpan.FromSeconds(10), jitter: 0.2);
        Assert.Equal(seconds, backoff.After(5, random).TotalSeconds, precision: 6);
    }

    [Fact]
    public void Never_yields_zero_and_rejects_what_cannot_back_off()
    {
        Assert.Equal(ExponentialBackoff.Floor, new ExponentialBackoff(TimeSpan.Zero, 2, TimeSpan.FromSeconds(1)).After(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialBackoff(TimeSpan.FromSeconds(1), 0.5, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialBackoff(TimeSpan.FromSeconds(1), 2, TimeSpan.FromSeconds(1), jitter: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialBackoff(TimeSpan.FromSeconds(1), 2, TimeSpan.FromSeconds(1)).After(0));
    }

    /// <summary>Spool releases: 1 s doubling to 5 min, ±20 %.</summary>
    [Fact]
    public void Spool_release_schedule()
    {
        var retry = ReleaseRetry.Default;
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300], Enumerable.Range(1, 11).Select(n => retry.DelayAfter(n, 0.5).TotalSeconds));
        Assert.Equal([0.8, 240], new[] { retry.DelayAfter(1, 0).TotalSeconds, retry.DelayAfter(20, 0).TotalSeconds });
    }

    /// <summary>Queue restarts after a failure: 2 s doubling to 60 s, no jitter (one timer per queue).</summary>
    [Fact]
    public void Queue_restart_schedule()
    {
        Assert.Equal([2, 4, 8, 16, 32, 60, 60, 60], Enumerable.Range(1, 8).Select(n => RestartBackoff.Default.DelayAfter(n).TotalSeconds));
    }

    /// <summary>Recipient retries use the same backoff (doubling from InitialSeconds to MaxSeconds); the age limit is the
    /// policy's own.</summary>
    [Fact]
    public void Recipient_retry_schedule_is_the_backoff_bounded_by_the_maximum_age()
    {
        var policy = new RetryPolicy(new RetryOptions { InitialSeconds = 10, MaxSeconds = 60, MaxAgeSeconds = 200, Jitter = 0 });
        var delays = new List<double>();
        var age = TimeSpan.Zero;
        for (int attempt = 1; policy.NextDelay(attempt, age, 0.5) is { } delay; attempt++)
        {
            Assert.Equal(policy.Backoff.After(attempt) <= delay ? policy.Backoff.After(attempt) : delay, delay);
            delays.Add(delay.TotalSeconds);
            age += delay;
        }

        Assert.Equal([10, 20, 40, 60, 60, 10], delays);
    }
}
