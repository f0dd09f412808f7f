namespace MailCluster.Queue;

/// <summary>
/// When to try a deferred recipient again: a pure function of the attempt number and the message's age
/// (STYLE habit 4). Exponential from <see cref="RetryOptions.InitialSeconds"/>, doubling per attempt, capped
/// at <see cref="RetryOptions.MaxSeconds"/>, spread by ±<see cref="RetryOptions.Jitter"/> so that recipients
/// deferred together do not come back together. The last attempt is made at the maximum age; after it the
/// recipient expires (Postfix's maximal_queue_lifetime, 5 days by default).
/// </summary>
public sealed class RetryPolicy(RetryOptions options)
{
    public RetryOptions Options { get; } = options;

    /// <summary>The delay schedule without the age limit: doubling from the initial delay to the cap, jittered.
    /// Built from <see cref="Options"/> at each use, as the options may be bound after this policy is made.</summary>
    public ExponentialBackoff Backoff => new(TimeSpan.FromSeconds(Options.InitialSeconds), 2, TimeSpan.FromSeconds(Options.MaxSeconds), Options.Jitter);

    /// <param name="attempt">Attempts made so far (1 after the first failure).</param>
    /// <param name="age">Time since the message arrived.</param>
    /// <param name="random">A uniform sample in [0, 1); 0.5 means no jitter.</param>
    /// <returns>The delay before the next attempt, or null when the recipient has expired.</returns>
    public TimeSpan? NextDelay(int attempt, TimeSpan age, double random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var maxAge = TimeSpan.FromSeconds(Options.MaxAgeSeconds);
        if (age >= maxAge)
        {
            return null;
        }

        var delay = Backoff.After(attempt, random);

        // Never schedule past the maximum age: the final attempt happens at it.
        var remaining = maxAge - age;
        return delay < remaining ? delay : remaining;
    }
}

/// <summary>Configuration section <c>MailCluster:Retry</c>.</summary>
public sealed class RetryOptions
{
    public const string Section = "MailCluster:Retry";

    /// <summary>Delay after the first failed attempt (default 5 minutes).</summary>
    public double InitialSeconds { get; set; } = 300;

    /// <summary>Cap on the delay between attempts (default 1 hour).</summary>
    public double MaxSeconds { get; set; } = 3600;

    /// <summary>Age after which a deferred recipient expires (default 5 days).</summary>
    public double MaxAgeSeconds { get; set; } = 5 * 24 * 3600;

    /// <summary>Relative spread of each delay, 0 to 0.5 (default 0.1 = ±10%).</summary>
    public double Jitter { get; set; } = 0.1;

    /// <summary>Age after which a still-deferred recipient's sender gets one "delayed" DSN (RFC 3464 action
    /// "delayed", Postfix's delay_warning_time); 0 (default) sends none.</summary>
    public double DelayWarningSeconds { get; set; }
}
