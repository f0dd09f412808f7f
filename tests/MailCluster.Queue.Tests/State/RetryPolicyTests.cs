using MailCluster.Queue;
using Xunit;

namespace MailCluster.Queue.Tests.State;

public class RetryPolicyTests
{
    private static readonly RetryPolicy Default = new(new RetryOptions());

    /// <summary>The whole default schedule (STYLE habit 4): 5 min doubling to a 1 h cap, for 5 days.</summary>
    [Fact]
    public void Default_schedule_without_jitter()
    {
        var delays = new List<double>();
        var age = TimeSpan.Zero;
        for (var attempt = 1; ; attempt++)
        {
            var delay = Default.NextDelay(attempt, age, random: 0.5);
            if (delay is null)
            {
                break;
            }

            delays.Add(delay.Value.TotalMinutes);
            age += delay.Value;
        }

        Assert.Equal([5, 10, 20, 40], delays.Take(4));
        Assert.All(delays.Skip(4).SkipLast(1), d => Assert.Equal(60, d));

        // 75 minutes for the first four, then hourly until exactly 5 days; the last gap is what remains.
        Assert.Equal(TimeSpan.FromDays(5), age);
        Assert.Equal(4 + 118 + 1, delays.Count);
        Assert.Equal(45, delays[^1], precision: 6);
    }

    [Theory]
    [InlineData(0.0, 0.9)]
    [InlineData(0.999999, 1.1)]
    public void Jitter_spreads_by_ten_percent(double random, double factor)
    {
        var delay = Default.NextDelay(1, TimeSpan.Zero, random)!.Value;
        Assert.Equal(300 * factor, delay.TotalSeconds, precision: 3);
    }

    [Fact]
    public void Expired_at_max_age()
    {
        Assert.Null(Default.NextDelay(10, TimeSpan.FromDays(5), 0.5));
        Assert.Null(Default.NextDelay(10, TimeSpan.FromDays(6), 0.5));
    }

    [Fact]
    public void Last_attempt_is_at_max_age()
    {
        var delay = Default.NextDelay(30, TimeSpan.FromDays(5) - TimeSpan.FromMinutes(7), 0.5);
        Assert.Equal(TimeSpan.FromMinutes(7), delay);
    }

    [Fact]
    public void Huge_attempt_numbers_stay_capped()
    {
        Assert.Equal(TimeSpan.FromHours(1), Default.NextDelay(100_000, TimeSpan.Zero, 0.5));
    }
}
