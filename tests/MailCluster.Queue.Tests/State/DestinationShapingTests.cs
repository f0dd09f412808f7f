using MailCluster.Queue.Delivery;
using MailCluster.Queue.State;
using Xunit;

namespace MailCluster.Queue.Tests.State;

public class DestinationShapingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(new RetryOptions { InitialSeconds = 60, MaxSeconds = 240, Jitter = 0 });

    /// <summary>A domain split into buckets shares the destination's connection cap among them, so no bucket's
    /// connection waits for a slot another bucket keeps idle.</summary>
    [Theory]
    [InlineData(10, 1, 10)]
    [InlineData(10, 4, 2)]
    [InlineData(10, 3, 3)]
    [InlineData(10, 16, 1)]
    public void A_bucket_gets_its_share_of_the_connection_cap(int cap, int buckets, int share)
    {
        var shaping = new DomainShaping(cap, 100, 60, TimeSpan.FromSeconds(5)).ForBuckets(buckets);
        Assert.Equal((share, 100, 60, TimeSpan.FromSeconds(5)), (shaping.MaxConnections, shaping.MessagesPerConnection, shaping.RatePerMinute, shaping.IdleTimeout));
    }

    [Fact]
    public void Connection_cap()
    {
        var s = DestinationShaping.Initial;
        Assert.True(s.CanOpen(T0, 1, 2));
        Assert.False(s.CanOpen(T0, 2, 2));
        Assert.Equal(3, DestinationShaping.Cap(new DomainShaping(3, 100, null, TimeSpan.FromSeconds(5)), 10));
        Assert.Equal(2, DestinationShaping.Cap(new DomainShaping(3, 100, null, TimeSpan.FromSeconds(5)), 2));
    }

    [Fact]
    public void Backoff_grows_then_a_single_probe_and_success_resets()
    {
        var s = DestinationShaping.Initial.ConnectFailed(T0, Retry);
        Assert.Equal(T0.AddSeconds(60), s.BackoffUntil);
        Assert.False(s.CanOpen(T0.AddSeconds(59), 0, 10));
        Assert.True(s.CanOpen(T0.AddSeconds(60), 0, 10));   // the probe
        Assert.False(s.CanOpen(T0.AddSeconds(60), 1, 10));  // only one while probing

        s = s.ConnectFailed(T0.AddSeconds(60), Retry).ConnectFailed(T0.AddSeconds(180), Retry).ConnectFailed(T0.AddSeconds(420), Retry);
        Assert.Equal(4, s.ConnectFailures);
        Assert.Equal(T0.AddSeconds(420 + 240), s.BackoffUntil); // doubled 60, 120, 240, capped at 240

        s = s.Connected();
        Assert.False(s.BackingOff);
        Assert.True(s.CanOpen(T0, 9, 10));
    }

    [Fact]
    public void Rate_per_minute_is_a_rolling_window()
    {
        var s = DestinationShaping.Initial;
        Assert.True(s.CanStart(T0, null));
        s = s.Started(T0).Started(T0.AddSeconds(10));
        Assert.False(s.CanStart(T0.AddSeconds(20), 2));
        Assert.Equal(T0.AddSeconds(60), s.NextStart(T0.AddSeconds(20), 2));
        Assert.True(s.CanStart(T0.AddSeconds(60.5), 2));
        Assert.True(s.CanStart(T0.AddSeconds(20), 3));
        Assert.Equal(T0.AddSeconds(20), s.NextStart(T0.AddSeconds(20), null));
        Assert.Single(s.Started(T0.AddSeconds(100)).RecentStarts);
    }
}
