namespace MailCluster.Queue.Sweep;

/// <summary>
/// Configuration section <c>MailCluster:Queue:OrphanSweep</c>: how often the cluster looks for spool bodies that no
/// domain queue will ever release (a node died with releases pending, or between persisting a final outcome and
/// releasing; an acceptance failed and so did its clean-up), and how old a body must be before it is looked at.
/// </summary>
public sealed class OrphanSweepOptions
{
    public const string Section = "MailCluster:Queue:OrphanSweep";

    /// <summary>Runs the sweep (on one delivery node of the cluster at a time).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Delay from the start of the sweeping node to its first run.</summary>
    public int FirstRunSeconds { get; set; } = 300;

    /// <summary>Delay from the end of one run to the start of the next. Also the confirmation delay: only the second run
    /// in a row to find a body un-held frees it (<see cref="SweepSuspects"/>), so keep it well above the time a shard
    /// takes to move or to be placed after a restart.</summary>
    public int IntervalSeconds { get; set; } = 3600;

    /// <summary>Bodies (and their references) younger than this are never looked at. Must exceed, with a wide margin,
    /// the longest an acceptance can still be under way (<see cref="QueueOptions.EnqueueTimeoutSeconds"/>) plus the time
    /// a queue waits for an uncommitted body (<see cref="QueueOptions.CommitGraceSeconds"/>): at least twice their sum.</summary>
    public int MinAgeSeconds { get; set; } = 3600;

    /// <summary>Bodies read from the spool per page (each page's questions and answers are all that is held in memory).</summary>
    public int PageSize { get; set; } = 500;

    /// <summary>How long one domain queue may take to answer (it may have to recover from the journal first); a queue
    /// that does not answer in time is skipped for this run.</summary>
    public int AskTimeoutSeconds { get; set; } = 30;

    /// <summary>The smallest <see cref="MinAgeSeconds"/> that is safe with <paramref name="queue"/>'s timings.</summary>
    public static int SmallestMinAgeSeconds(QueueOptions queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return 2 * (queue.CommitGraceSeconds + queue.EnqueueTimeoutSeconds);
    }
}
