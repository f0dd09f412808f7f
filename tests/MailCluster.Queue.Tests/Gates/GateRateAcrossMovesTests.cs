using MailCluster.Queue.Gates;
using Xunit;

namespace MailCluster.Queue.Tests.Gates;

/// <summary>
/// The rate of a destination across a gate move (issue 19 target 5): the nodes log the starts they were granted
/// (<see cref="NodeStartLog"/>) and re-announce them to a fresh gate, which counts its predecessor's window; on an
/// explicit clock (TTL 30 s: quiet 11 s). The old gate is "g1", the fresh one "g2"; rate 10 a minute.
/// </summary>
public sealed class GateRateAcrossMovesTests
{
    private const int Rate = 10;
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly GateTimings Timings = GateTimings.Default;

    /// <summary>A gate whose census of <paramref name="nodes"/> is complete (nobody held anything).</summary>
    private static GateLeases Gate(string incarnation, DateTimeOffset now, params string[] nodes)
    {
        var gate = new GateLeases(now, Timings, nodes, incarnation);
        foreach (var node in nodes)
        {
            gate.Renew(node, [], now);
        }

        return gate;
    }

    /// <summary>Takes one start for <paramref name="node"/> at <paramref name="now"/> and logs it there, as
    /// ClusterGates and the node's client do.</summary>
    private static StartGrant Take(GateLeases gate, NodeStartLog node, DateTimeOffset now)
    {
        var grant = gate.TakeStarts(1, Rate, now);
        node.Record("d.test", gate.Incarnation, grant.Count, now);
        return grant;
    }

    /// <summary>The census answer of a node: its recent starts, then its (empty) renewal.</summary>
    private static void Answer(GateLeases gate, string name, NodeStartLog node, DateTimeOffset now)
    {
        gate.RestoreStarts(name, node.Report("d.test", now), now);
        gate.Renew(name, [], now);
    }

    [Fact]
    public void A_gate_that_moves_mid_window_grants_only_what_its_predecessor_left_of_the_window()
    {
        var a = new NodeStartLog();
        var b = new NodeStartLog();
        var old = Gate("g1", T0, "a", "b");
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(1, Take(old, a, T0.AddSeconds(10)).Count);
            Assert.Equal(1, Take(old, b, T0.AddSeconds(20)).Count);
        }

        // The old gate's node dies at 30 s; the fresh gate starts on another node and asks a and b.
        var moved = T0.AddSeconds(30);
        var fresh = new GateLeases(moved, Timings, ["a", "b"], "g2");
        Assert.Equal(new StartGrant(0, moved + GateLeases.QuietStartRetry), fresh.TakeStarts(1, Rate, moved)); // census not complete
        Answer(fresh, "a", a, moved);
        Assert.Equal(0, fresh.TakeStarts(1, Rate, moved).Count); // b not heard yet: its starts are unknown
        Answer(fresh, "b", b, moved.AddMilliseconds(3));

        var now = moved.AddMilliseconds(3);
        Assert.Equal(new StartGrant(2, null), fresh.TakeStarts(5, Rate, now)); // 8 of 10 were used
        Assert.Equal(new StartGrant(0, T0.AddSeconds(70)), fresh.TakeStarts(1, Rate, now)); // a's four leave at 10 s + 60
        Assert.Equal(new StartGrant(4, null), fresh.TakeStarts(5, Rate, T0.AddSeconds(70)));
        Assert.Equal(0, fresh.TakeStarts(1, Rate, T0.AddSeconds(79)).Count);
        Assert.Equal(0, fresh.TakeStarts(1, Rate, T0.AddSeconds(80)).Count); // b's were reported 3 ms late: counted 3 ms longer
        Assert.Equal(4, fresh.TakeStarts(5, Rate, T0.AddSeconds(80.1)).Count);
    }

    [Fact]
    public void Starts_are_reported_later_than_they_were_never_earlier()
    {
        var a = new NodeStartLog();
        var old = Gate("g1", T0, "a");
        Assert.Equal(1, Take(old, a, T0.AddMilliseconds(900)).Count);

        // Reported at 2.5 s: aged 1.6 s, rounded down to 1 s, so the fresh gate counts it from 1.5 s to 61.5 s.
        var fresh = new GateLeases(T0.AddSeconds(2.5), Timings, ["a"], "g2");
        Answer(fresh, "a", a, T0.AddSeconds(2.5));
        Assert.Equal(9, fresh.TakeStarts(10, Rate, T0.AddSeconds(2.5)).Count);
        Assert.Equal(new StartGrant(0, T0.AddSeconds(61.5)), fresh.TakeStarts(1, Rate, T0.AddSeconds(61)));
    }

    [Fact]
    public void A_gate_counts_its_own_grants_once_and_a_nodes_repeated_announcement_once()
    {
        var a = new NodeStartLog();
        var old = Gate("g1", T0, "a");
        Take(old, a, T0);
        Take(old, a, T0);
        var fresh = Gate("g2", T0.AddSeconds(5), "a");
        Assert.Equal(1, Take(fresh, a, T0.AddSeconds(5)).Count); // granted before a's announcement arrived

        // a's periodic re-announcements: the first counts g1's two, never its own grant again, and the next nothing.
        fresh.RestoreStarts("a", a.Report("d.test", T0.AddSeconds(10)), T0.AddSeconds(10));
        fresh.RestoreStarts("a", a.Report("d.test", T0.AddSeconds(20)), T0.AddSeconds(20));
        Assert.Equal(new StartGrant(7, null), fresh.TakeStarts(10, Rate, T0.AddSeconds(20)));
    }

    [Fact]
    public void A_removed_nodes_starts_still_count_and_one_removed_before_answering_is_not_waited_for()
    {
        var a = new NodeStartLog();
        var b = new NodeStartLog();
        var old = Gate("g1", T0, "a", "b", "dead");
        for (var i = 0; i < 5; i++)
        {
            Take(old, b, T0);
        }

        var fresh = new GateLeases(T0.AddSeconds(20), Timings, ["a", "b", "dead"], "g2");
        Answer(fresh, "b", b, T0.AddSeconds(20));
        fresh.RemoveNode("b", T0.AddSeconds(21)); // its messages reached the destination: they stay in the window
        Answer(fresh, "a", a, T0.AddSeconds(21));
        Assert.Equal(0, fresh.TakeStarts(1, Rate, T0.AddSeconds(21)).Count); // "dead" is still awaited

        fresh.RemoveNode("dead", T0.AddSeconds(22));
        Assert.Equal(new StartGrant(5, null), fresh.TakeStarts(10, Rate, T0.AddSeconds(22)));
        Assert.Equal(new StartGrant(0, T0.AddSeconds(60)), fresh.TakeStarts(1, Rate, T0.AddSeconds(22)));
    }

    [Fact]
    public void A_node_that_never_answers_holds_the_rate_for_the_quiet_period_only_and_counts_once_it_does()
    {
        var a = new NodeStartLog();
        var silent = new NodeStartLog();
        var old = Gate("g1", T0, "a", "silent");
        for (var i = 0; i < 6; i++)
        {
            Take(old, silent, T0.AddSeconds(1));
        }

        var moved = T0.AddSeconds(5);
        var fresh = new GateLeases(moved, Timings, ["a", "silent"], "g2");
        Answer(fresh, "a", a, moved);
        var quietEnd = moved + Timings.Quiet;
        Assert.Equal(new StartGrant(0, quietEnd), fresh.TakeStarts(1, Rate, quietEnd - TimeSpan.FromMilliseconds(100)));

        // Quiet is over: the silent node's six starts are unknown (the documented tolerance), so all ten are free.
        Assert.Equal(2, fresh.TakeStarts(2, Rate, quietEnd).Count);

        // It answers late (its renewal): from then on its starts count, so the window holds 8 + at most what is left.
        fresh.RestoreStarts("silent", silent.Report("d.test", quietEnd.AddSeconds(1)), quietEnd.AddSeconds(1));
        Assert.Equal(2, fresh.TakeStarts(5, Rate, quietEnd.AddSeconds(1)).Count);
        Assert.Equal(new StartGrant(0, T0.AddSeconds(61)), fresh.TakeStarts(1, Rate, quietEnd.AddSeconds(1)));
    }

    [Fact]
    public void The_node_log_forgets_starts_after_the_window_and_groups_them_by_gate_and_second()
    {
        var log = new NodeStartLog();
        log.Record("d.test", "g1", 2, T0);
        log.Record("d.test", "g1", 3, T0.AddMilliseconds(400));
        log.Record("d.test", "g2", 1, T0.AddMilliseconds(500));
        log.Record("e.test", "g1", 0, T0);

        Assert.Equal(
            [new RecentStart("g1", 1, 5), new RecentStart("g2", 1, 1)],
            log.Report("d.test", T0.AddSeconds(1.5)));
        Assert.Equal(["d.test"], log.Domains(T0.AddSeconds(59)));
        Assert.Equal([new RecentStart("g2", 59, 1)], log.Report("d.test", T0.AddSeconds(60.45)));
        Assert.Empty(log.Domains(T0.AddSeconds(60.5)));
    }
}
