using System.Collections.Immutable;
using MailCluster.Queue.Delivery;

namespace MailCluster.Queue.State;

/// <summary>
/// The traffic-shaping state of one destination domain (not persisted: after a restart a domain starts unshaped);
/// pure. It answers "may a new connection open now, and when next?" from the connection cap, the rolling
/// per-minute message rate, and the destination backoff: when a connection attempt found every host unreachable,
/// no connection opens until <see cref="BackoffUntil"/>, and then only one (the probe) until one succeeds.
/// </summary>
public sealed record DestinationShaping(int ConnectFailures, DateTimeOffset BackoffUntil, ImmutableQueue<DateTimeOffset> RecentStarts)
{
    public static readonly DestinationShaping Initial = new(0, DateTimeOffset.MinValue, []);

    private static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    public bool BackingOff => ConnectFailures > 0;

    /// <summary>Whether a new connection may open now.</summary>
    /// <param name="open">Connections open (or opening) right now.</param>
    /// <param name="cap">The effective connection cap.</param>
    public bool CanOpen(DateTimeOffset now, int open, int cap) =>
        open < cap && (!BackingOff || (now >= BackoffUntil && open == 0));

    /// <summary>Whether one more message may start now under <paramref name="ratePerMinute"/> (null: no limit).</summary>
    public bool CanStart(DateTimeOffset now, int? ratePerMinute) =>
        ratePerMinute is not { } rate || RecentStarts.Count(t => t > now - RateWindow) < rate;

    /// <summary>When the rate limit next lets a message start (now when it does already).</summary>
    public DateTimeOffset NextStart(DateTimeOffset now, int? ratePerMinute)
    {
        if (CanStart(now, ratePerMinute))
        {
            return now;
        }

        var inWindow = RecentStarts.Where(t => t > now - RateWindow).OrderBy(t => t).ToList();
        return inWindow[inWindow.Count - ratePerMinute!.Value] + RateWindow;
    }

    /// <summary>Records a message start (for the rate), forgetting starts older than the window.</summary>
    public DestinationShaping Started(DateTimeOffset now)
    {
        var starts = RecentStarts;
        while (!starts.IsEmpty && starts.Peek() <= now - RateWindow)
        {
            starts = starts.Dequeue();
        }

        return this with { RecentStarts = starts.Enqueue(now) };
    }

    /// <summary>Every host was unreachable: back off by <paramref name="retry"/>'s delay for the failure count
    /// (no jitter needed: one timer per domain), then probe.</summary>
    public DestinationShaping ConnectFailed(DateTimeOffset now, RetryPolicy retry)
    {
        ArgumentNullException.ThrowIfNull(retry);
        int failures = ConnectFailures + 1;
        var delay = retry.NextDelay(failures, TimeSpan.Zero, 0.5) ?? TimeSpan.FromSeconds(retry.Options.MaxSeconds);
        return this with { ConnectFailures = failures, BackoffUntil = now + delay };
    }

    /// <summary>The operator flushed the queue: a backing-off destination is probed now (one connection, as after any
    /// backoff) instead of at <see cref="BackoffUntil"/>; the failure count stays, so a failed probe backs off further.</summary>
    public DestinationShaping Flushed(DateTimeOffset now) => BackingOff && BackoffUntil > now ? this with { BackoffUntil = now } : this;

    /// <summary>A connection opened: the destination is healthy again.</summary>
    public DestinationShaping Connected() => BackingOff || BackoffUntil != DateTimeOffset.MinValue ? this with { ConnectFailures = 0, BackoffUntil = DateTimeOffset.MinValue } : this;

    /// <summary>The effective connection cap: the destination's, bounded by the queue's own limit.</summary>
    public static int Cap(DomainShaping shaping, int queueLimit)
    {
        ArgumentNullException.ThrowIfNull(shaping);
        return Math.Max(1, Math.Min(shaping.MaxConnections, queueLimit));
    }
}
