using MailCluster.Queue.Delivery;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace MailCluster.Queue.Tests.Delivery;

/// <summary>The node-wide gate of a destination domain: the pure state, and the shared gates every queue (bucket) of
/// the domain waits on, driven by a fake clock.</summary>
public sealed class DestinationGateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Slots_open_up_to_the_cap_and_a_release_never_goes_below_zero()
    {
        var gate = DestinationGate.Idle.Opened().Opened();

        Assert.False(gate.CanOpen(2));
        Assert.True(gate.CanOpen(3));
        Assert.True(gate.Closed().CanOpen(2));
        Assert.Equal(0, DestinationGate.Idle.Closed().Open);
        Assert.True(DestinationGate.Idle.CanOpen(0)); // a cap below 1 still lets one connection open
    }

    [Fact]
    public void The_rate_counts_starts_in_a_rolling_minute()
    {
        var gate = DestinationGate.Idle.Started(T0).Started(T0.AddSeconds(10)).Started(T0.AddSeconds(20));

        Assert.Equal(T0.AddSeconds(30), gate.NextStart(T0.AddSeconds(30), ratePerMinute: 4));
        Assert.Equal(T0.AddSeconds(60), gate.NextStart(T0.AddSeconds(30), ratePerMinute: 3)); // the first start leaves
        Assert.Equal(T0.AddSeconds(70), gate.NextStart(T0.AddSeconds(30), ratePerMinute: 2));
        Assert.Equal(T0.AddSeconds(30), gate.NextStart(T0.AddSeconds(30), ratePerMinute: null));
        Assert.Equal(T0.AddSeconds(61), gate.NextStart(T0.AddSeconds(61), ratePerMinute: 3));
        Assert.Equal(2, gate.Started(T0.AddSeconds(75)).RecentStarts.Count()); // T0 and T0+10 s forgotten
    }

    [Fact]
    public void A_gate_is_idle_once_no_slot_is_held_and_its_starts_left_the_window()
    {
        var gate = DestinationGate.Idle.Opened().Started(T0);

        Assert.False(gate.IsIdle(T0));
        Assert.False(gate.Closed().IsIdle(T0.AddSeconds(59)));
        Assert.True(gate.Closed().IsIdle(T0.AddSeconds(60)));
    }

    [Fact]
    public async Task Every_queue_of_a_domain_shares_its_slots_first_come_first_served()
    {
        var gates = new DestinationGates(new FakeTimeProvider(T0));
        var first = await gates.OpenAsync("hot.test", 2, Ct);
        var second = await gates.OpenAsync("hot.test", 2, Ct);
        var third = gates.OpenAsync("hot.test", 2, Ct);
        var fourth = gates.OpenAsync("hot.test", 2, Ct);
        var other = await gates.OpenAsync("other.test", 2, Ct); // another destination has its own slots

        Assert.False(third.IsCompleted);
        Assert.Equal(2, gates.OpenTo("hot.test"));
        first.Dispose();
        var thirdLease = await third.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.False(fourth.IsCompleted);
        first.Dispose(); // a second dispose gives nothing back
        Assert.False(fourth.IsCompleted);
        Assert.Equal(2, gates.OpenTo("hot.test"));

        second.Dispose();
        (await fourth.WaitAsync(TimeSpan.FromSeconds(10), Ct)).Dispose();
        thirdLease.Dispose();
        other.Dispose();
        Assert.Equal(0, gates.OpenTo("hot.test"));
        Assert.Equal(0, gates.Tracked);
    }

    [Fact]
    public async Task A_cancelled_wait_takes_no_slot()
    {
        var gates = new DestinationGates(new FakeTimeProvider(T0));
        var held = await gates.OpenAsync("hot.test", 1, Ct);
        using var cancel = new CancellationTokenSource();
        var abandoned = gates.OpenAsync("hot.test", 1, cancel.Token);
        var next = gates.OpenAsync("hot.test", 1, Ct);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        held.Dispose();

        using var lease = await next.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(1, gates.OpenTo("hot.test"));
    }

    [Fact]
    public async Task A_start_waits_for_the_rate_on_the_clock()
    {
        var clock = new FakeTimeProvider(T0);
        var gates = new DestinationGates(clock);
        await gates.StartAsync("hot.test", 2, Ct);
        clock.Advance(TimeSpan.FromSeconds(10));
        await gates.StartAsync("hot.test", 2, Ct);

        var third = gates.StartAsync("hot.test", 2, Ct);
        Assert.False(third.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(49));
        Assert.False(third.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1)); // the first start leaves the minute
        await third.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        await gates.StartAsync("hot.test", null, Ct); // no limit: never waits
    }

    [Fact]
    public async Task Idle_destinations_are_forgotten_beyond_the_bound()
    {
        var clock = new FakeTimeProvider(T0);
        var gates = new DestinationGates(clock);
        for (var i = 0; i < 3000; i++)
        {
            await gates.StartAsync($"d{i}.test", 10, Ct); // each remembers one start for a minute
        }

        Assert.Equal(3000, gates.Tracked); // all active within the minute
        clock.Advance(TimeSpan.FromMinutes(2));
        var lease = await gates.OpenAsync("new.test", 1, Ct); // past the bound: the idle ones go
        Assert.Equal(1, gates.Tracked);
        lease.Dispose();
        Assert.Equal(0, gates.Tracked);
    }
}
