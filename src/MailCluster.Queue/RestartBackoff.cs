namespace MailCluster.Queue;

/// <summary>
/// How long a domain queue that stopped on a failure (a journal failure while the database is down: recovery or a
/// write failed) waits before it starts again: <see cref="Initial"/> doubling per consecutive failure up to
/// <see cref="Max"/>; a queue that ran for <see cref="ResetAfter"/> before failing counts as healthy and starts the
/// schedule again. Pure; the delays are an <see cref="ExponentialBackoff"/> without jitter (one timer per queue).
/// </summary>
public sealed record RestartBackoff(TimeSpan Initial, TimeSpan Max, TimeSpan ResetAfter)
{
    /// <summary>2 s, 4 s, 8 s, ... 60 s; reset after a minute of health.</summary>
    public static readonly RestartBackoff Default = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60));

    /// <summary>The wait after the <paramref name="failures"/>-th consecutive failure (1-based).</summary>
    public TimeSpan DelayAfter(int failures)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(failures);
        return new ExponentialBackoff(Initial, 2, Max).After(failures);
    }

    /// <summary>The consecutive-failure count after a failure of a queue that ran for <paramref name="ranFor"/>.</summary>
    public int FailuresAfter(int previous, TimeSpan ranFor) => ranFor >= ResetAfter ? 1 : previous + 1;
}
