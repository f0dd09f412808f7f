using System.Collections.Frozen;

namespace MailCluster.Queue.Sweep;

/// <summary>
/// The sweep's two-run rule (<see cref="OrphanSweepPlan"/>): a reference (or an uncommitted body) is released only
/// when the run that finds it un-held is the second in a row to do so. One "nobody holds it" is not proof: a bucket
/// can be briefly not running (a shard handed off or rebalanced, a node just restarted before its remembered shard is
/// placed), and bucket discovery (<see cref="Buckets.QueueEntities"/>) finds only running buckets, so a leftover
/// bucket above a lowered count can be missed once; by the next run, an interval later, it runs again and says "held".
/// <para>One instance per run: it knows what the previous run found (<see cref="Carried"/>, read only) and collects
/// what this run finds for the next (<see cref="Next"/>). Only in memory and bounded by <see cref="Capacity"/>: what
/// does not fit is found again by a later run, and a new sweeping node (singleton hand-over) starts empty; both only
/// delay a release. Pure: no I/O, no clock.</para>
/// </summary>
public sealed class SweepSuspects
{
    /// <summary>About 200 bytes each (an id and a domain): 20 MB at most on the sweeping node.</summary>
    public const int DefaultCapacity = 100_000;

    private readonly FrozenSet<SpoolReference> _previous;
    private readonly HashSet<SpoolReference> _found = [];

    /// <summary>A first run: nothing can be confirmed yet.</summary>
    public SweepSuspects(int capacity = DefaultCapacity)
        : this(FrozenSet<SpoolReference>.Empty, capacity)
    {
    }

    private SweepSuspects(FrozenSet<SpoolReference> previous, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _previous = previous;
        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>Suspects carried over from the previous run: what this run may confirm.</summary>
    public int Carried => _previous.Count;

    /// <summary>Suspects found so far by this run, for the next run to confirm.</summary>
    public int Found => _found.Count;

    /// <summary>Un-held references this run could not keep because the set was full (a later run finds them again).</summary>
    public int Overflowed { get; private set; }

    /// <summary>The key of a whole uncommitted body (deleted with all its references at once).</summary>
    public static SpoolReference WholeBody(string messageId) => new(messageId, "");

    /// <summary>Called for something found un-held by this run: true when the previous run found it un-held too (it
    /// may go now; it is not carried further), else false and it is kept for the next run (room permitting).</summary>
    public bool Confirm(SpoolReference unheld)
    {
        ArgumentNullException.ThrowIfNull(unheld);
        if (_previous.Contains(unheld))
        {
            return true;
        }

        if (_found.Count < Capacity || _found.Contains(unheld))
        {
            _found.Add(unheld);
        }
        else
        {
            Overflowed++;
        }

        return false;
    }

    /// <summary>The suspects of the next run: what this run found un-held and did not confirm. Anything the previous
    /// run suspected that this run found held, or could not decide, is dropped.</summary>
    public SweepSuspects Next() => new(_found.ToFrozenSet(), Capacity);
}
