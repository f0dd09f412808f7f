using System.Collections.Immutable;

namespace MailCluster.Queue.Delivery;

/// <summary>
/// The node-wide shaping state of one destination domain, shared by every domain queue that delivers there (a domain
/// split into buckets has several): connections open now, and the message starts of the last minute. Pure: the caller
/// passes <c>now</c> and the limits (<see cref="DomainShaping"/>), and keeps the new value.
/// </summary>
/// <param name="Open">Connections holding a slot (opening, open or closing).</param>
/// <param name="RecentStarts">Message starts within the last <see cref="RateWindow"/>, oldest first.</param>
public sealed record DestinationGate(int Open, ImmutableQueue<DateTimeOffset> RecentStarts)
{
    public static readonly DestinationGate Idle = new(0, []);

    /// <summary>The rolling window of <see cref="DomainShaping.RatePerMinute"/>.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    /// <summary>Whether one more connection may hold a slot under <paramref name="cap"/> (at least 1).</summary>
    public bool CanOpen(int cap) => Open < Math.Max(1, cap);

    public DestinationGate Opened() => this with { Open = Open + 1 };

    /// <summary>A slot is given back. Never below zero, so a double release cannot open more than the cap.</summary>
    public DestinationGate Closed() => this with { Open = Math.Max(0, Open - 1) };

    /// <summary>When the rate lets the next message start: <paramref name="now"/> when it does already (or when
    /// <paramref name="ratePerMinute"/> is null: no limit), else when the oldest start that counts leaves the window.</summary>
    public DateTimeOffset NextStart(DateTimeOffset now, int? ratePerMinute)
    {
        if (ratePerMinute is not { } rate)
        {
            return now;
        }

        var inWindow = RecentStarts.Where(t => t > now - RateWindow).ToList();
        return inWindow.Count < Math.Max(1, rate) ? now : inWindow[inWindow.Count - Math.Max(1, rate)] + RateWindow;
    }

    /// <summary>Records a message start at <paramref name="now"/>, forgetting the starts that left the window.</summary>
    public DestinationGate Started(DateTimeOffset now)
    {
        var kept = Forget(now);
        return kept with { RecentStarts = kept.RecentStarts.Enqueue(now) };
    }

    /// <summary>Nothing to remember: no slot held and no start within the window (the entry can be dropped).</summary>
    public bool IsIdle(DateTimeOffset now) => Open == 0 && Forget(now).RecentStarts.IsEmpty;

    private DestinationGate Forget(DateTimeOffset now)
    {
        var starts = RecentStarts;
        while (!starts.IsEmpty && starts.Peek() <= now - RateWindow)
        {
            starts = starts.Dequeue();
        }

        return ReferenceEquals(starts, RecentStarts) ? this : this with { RecentStarts = starts };
    }
}
