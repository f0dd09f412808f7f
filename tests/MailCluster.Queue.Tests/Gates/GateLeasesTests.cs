using MailCluster.Queue.Gates;
using Xunit;

namespace MailCluster.Queue.Tests.Gates;

/// <summary>The cluster-wide lease book of a destination (issue 19): cap, FIFO, TTL, node removal, the fresh gate's
/// quiet period and census, rate batches; time is passed in (TTL 30 s: renewals every 10 s, quiet 11 s).</summary>
public sealed class GateLeasesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly GateTimings Timings = GateTimings.Default;

    /// <summary>A book whose census is already complete (the only node has re-announced nothing).</summary>
    private static GateLeases Open()
    {
        var leases = new GateLeases(T0, Timings, ["a"]);
        Assert.Empty(leases.Renew("a", [], T0));
        return leases;
    }

    private static string[] Ids(IEnumerable<LeaseGrant> grants) => [.. grants.Select(g => g.LeaseId)];

    [Fact]
    public void Grants_up_to_the_cap_across_nodes_and_queues_the_rest_first_come_first_served()
    {
        var leases = Open();

        Assert.Equal(["1"], Ids(leases.Acquire("1", "a", 2, T0)));
        Assert.Equal(["2"], Ids(leases.Acquire("2", "b", 2, T0)));
        Assert.Empty(leases.Acquire("3", "c", 2, T0));
        Assert.Empty(leases.Acquire("4", "a", 2, T0));
        Assert.Equal((2, 2), (leases.Held, leases.Waiting));

        Assert.Equal([new LeaseGrant("3", "c")], leases.Release("2", T0));
        Assert.Empty(leases.Release("2", T0)); // a repeated release frees nothing more
        Assert.Equal(["4"], Ids(leases.Release("1", T0)));
        Assert.Equal((2, 0), (leases.Held, leases.Waiting));
    }

    [Fact]
    public void A_repeated_request_keeps_its_place_and_a_held_lease_is_granted_again()
    {
        var leases = Open();
        leases.Acquire("1", "a", 1, T0);
        leases.Acquire("2", "b", 1, T0);
        leases.Acquire("3", "c", 1, T0);

        Assert.Equal(["1"], Ids(leases.Acquire("1", "a", 1, T0))); // the first grant may have been lost
        Assert.Empty(leases.Acquire("3", "c", 1, T0)); // re-sent: still behind "2"
        Assert.Equal(["2"], Ids(leases.Release("1", T0)));
        Assert.Equal(1, leases.Waiting);
    }

    [Fact]
    public void A_withdrawn_request_takes_nothing_and_a_cap_below_one_still_lets_one_through()
    {
        var leases = Open();
        Assert.Equal(["1"], Ids(leases.Acquire("1", "a", 0, T0)));
        leases.Acquire("2", "a", 0, T0);
        leases.Acquire("3", "b", 0, T0);

        Assert.Empty(leases.Release("2", T0));
        Assert.Equal(["3"], Ids(leases.Release("1", T0)));
    }

    [Fact]
    public void A_lease_not_renewed_within_its_ttl_is_freed_and_a_renewed_one_is_kept()
    {
        var leases = Open();
        leases.Acquire("1", "a", 2, T0);
        leases.Acquire("2", "b", 2, T0);
        leases.Acquire("3", "c", 2, T0.AddSeconds(1));

        Assert.Empty(leases.Renew("a", ["1"], T0.AddSeconds(20)));
        Assert.Empty(leases.Tick(T0.AddSeconds(29)));
        Assert.Empty(leases.Acquire("3", "c", 2, T0.AddSeconds(29))); // the waiter re-sends: its own TTL restarts
        Assert.Equal(["3"], Ids(leases.Tick(T0.AddSeconds(30)))); // "2" lapsed, "1" was renewed
        Assert.Empty(leases.Tick(T0.AddSeconds(49)));
        Assert.Equal(2, leases.Held);
        leases.Tick(T0.AddSeconds(50)); // "1" lapses 30 s after its renewal
        Assert.Equal(1, leases.Held);
        leases.Tick(T0.AddSeconds(60)); // "3", granted at 30 s, never renewed
        Assert.Equal(0, leases.Held);
    }

    [Fact]
    public void A_waiting_request_not_repeated_within_the_ttl_is_dropped()
    {
        var leases = Open();
        leases.Acquire("1", "a", 1, T0);
        leases.Acquire("2", "b", 1, T0);

        leases.Renew("a", ["1"], T0.AddSeconds(25));
        Assert.Empty(leases.Tick(T0.AddSeconds(30)));
        Assert.Equal(0, leases.Waiting);
    }

    [Fact]
    public void A_removed_node_frees_its_leases_and_requests()
    {
        var leases = Open();
        leases.Acquire("1", "a", 2, T0);
        leases.Acquire("2", "a", 2, T0);
        leases.Acquire("3", "a", 2, T0);
        leases.Acquire("4", "b", 2, T0);
        leases.Acquire("5", "c", 2, T0);

        Assert.Equal(["4", "5"], Ids(leases.RemoveNode("a", T0.AddSeconds(1))));
        Assert.Equal((2, 0), (leases.Held, leases.Waiting));
    }

    [Fact]
    public void A_fresh_gate_grants_nothing_for_one_renewal_interval_while_renewals_re_register_leases()
    {
        var leases = new GateLeases(T0, Timings, ["a", "b"]);

        Assert.True(leases.IsQuiet(T0));
        Assert.Empty(leases.Acquire("new", "a", 2, T0));
        Assert.Empty(leases.Renew("b", ["old1", "old2"], T0.AddSeconds(3))); // held before the gate moved: above nothing
        Assert.Equal(2, leases.Held);
        Assert.Empty(leases.Tick(T0.AddSeconds(10.9)));
        Assert.Empty(leases.Tick(T0.AddSeconds(11))); // quiet is over, but the cap is taken by the re-announced leases
        Assert.Equal(["new"], Ids(leases.Release("old1", T0.AddSeconds(12))));
    }

    [Fact]
    public void The_census_ends_the_quiet_period_once_every_node_has_re_announced()
    {
        var leases = new GateLeases(T0, Timings, ["a", "b"]);
        leases.Acquire("1", "a", 3, T0);

        Assert.Empty(leases.Renew("a", [], T0.AddMilliseconds(5)));
        Assert.Equal(["1"], Ids(leases.Renew("b", ["old"], T0.AddMilliseconds(6))));
        Assert.False(leases.IsQuiet(T0.AddMilliseconds(6)));
        Assert.Equal(2, leases.Held);
    }

    [Fact]
    public void A_node_removed_during_the_quiet_period_is_not_waited_for()
    {
        var leases = new GateLeases(T0, Timings, ["a", "dead"]);
        leases.Acquire("1", "a", 1, T0);
        leases.Renew("a", [], T0);

        Assert.Equal(["1"], Ids(leases.RemoveNode("dead", T0.AddSeconds(1))));
    }

    [Fact]
    public void Starts_are_granted_in_batches_under_the_rate_of_a_rolling_minute()
    {
        var leases = Open();

        Assert.Equal(new StartGrant(5, null), leases.TakeStarts(5, 7, T0));
        Assert.Equal(new StartGrant(2, null), leases.TakeStarts(5, 7, T0.AddSeconds(10)));
        Assert.Equal(new StartGrant(0, T0.AddSeconds(60)), leases.TakeStarts(5, 7, T0.AddSeconds(20)));
        Assert.Equal(new StartGrant(5, null), leases.TakeStarts(5, 7, T0.AddSeconds(60))); // the first five left
        Assert.Equal(new StartGrant(0, T0.AddSeconds(70)), leases.TakeStarts(1, 7, T0.AddSeconds(61)));
        Assert.False(leases.IsIdle(T0.AddSeconds(119)));
        Assert.True(leases.IsIdle(T0.AddSeconds(120)));
    }
}
