namespace MailCluster.Queue;

/// <summary>
/// The one exponential backoff of the queue (STYLE habit 4), pure: the delay after the n-th consecutive failure is
/// <see cref="Initial"/> × <see cref="Factor"/>^(n−1), capped at <see cref="Max"/>, then spread by ±<see cref="Jitter"/>
/// (a relative spread, 0 for none) with a uniform sample the caller passes in, so that tests give a fixed sample and
/// production gives <c>Random.Shared.NextDouble()</c>. Used by <see cref="RetryPolicy"/> (recipient retries),
/// <see cref="Spool.ReleaseRetry"/> (spool releases) and <see cref="RestartBackoff"/> (queue restarts).
/// </summary>
public sealed record ExponentialBackoff
{
    /// <summary>The shortest delay a backoff yields: a jittered or tiny delay never becomes zero or negative.</summary>
    public static readonly TimeSpan Floor = TimeSpan.FromMilliseconds(1);

    public ExponentialBackoff(TimeSpan initial, double factor, TimeSpan max, double jitter = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initial.Ticks, nameof(initial));
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(jitter);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(jitter, 1);
        (Initial, Factor, Max, Jitter) = (initial, factor, max, jitter);
    }

    public TimeSpan Initial { get; }

    public double Factor { get; }

    public TimeSpan Max { get; }

    public double Jitter { get; }

    /// <summary>The delay after the <paramref name="failures"/>-th consecutive failure (1-based).</summary>
    /// <param name="random">A uniform sample in [0, 1): 0 shortens by <see cref="Jitter"/>, 0.5 leaves the delay as is.</param>
    public TimeSpan After(int failures, double random = 0.5)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(failures);

        // Past the cap the power only grows (to infinity for huge failure counts, which Math.Min still caps).
        var grown = Initial.TotalMilliseconds * Math.Pow(Factor, failures - 1);
        var capped = Math.Min(grown, Max.TotalMilliseconds);
        var jittered = capped * (1 + (Jitter * ((2 * random) - 1)));
        return TimeSpan.FromMilliseconds(Math.Max(jittered, Floor.TotalMilliseconds));
    }
}
