namespace MailCluster.Edge.Credentials.Quota;

/// <summary>Messages counted in one whole second (Unix time).</summary>
public readonly record struct SecondCount(long Second, int Count);

/// <summary>
/// One key's sending allowance, pure (the entity only holds it). Two limits, both all-or-nothing per request:
/// <list type="bullet">
/// <item>Rate: a sliding window of the last 60 whole seconds, counted per second (at most 60 entries whatever the
/// rate). A request passes when the window's count plus the request stays within the rate, so no 60-second window
/// (aligned to whole seconds) ever holds more than <c>rate</c> messages: a fresh key may send its whole rate at once,
/// then waits until the oldest second leaves the window. (A fixed per-minute window would let twice the rate through
/// around the minute's edge, and a token bucket with a burst of <c>rate</c> up to twice the rate in the first minute.)</item>
/// <item>Daily quota: messages counted per UTC day; the count starts from zero at midnight UTC.</item>
/// </list>
/// </summary>
/// <param name="Recent">Seconds with messages, oldest first, within the last minute as of the last request.</param>
/// <param name="Day">The UTC day <see cref="UsedToday"/> counts.</param>
public sealed record QuotaCounter(IReadOnlyList<SecondCount> Recent, DateOnly Day, long UsedToday)
{
    public const int WindowSeconds = 60;

    public static QuotaCounter Empty { get; } = new([], DateOnly.MinValue, 0);

    /// <summary>The decision for <paramref name="messages"/> at <paramref name="now"/> and the counter after it
    /// (unchanged when refused). A null limit is no limit.</summary>
    public (QuotaDecision Decision, QuotaCounter Next) TryConsume(DateTimeOffset now, int messages, int? ratePerMinute, int? dailyQuota)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(messages, 1);
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        var used = day == Day ? UsedToday : 0;

        if (messages > (ratePerMinute ?? int.MaxValue) || messages > (dailyQuota ?? int.MaxValue))
        {
            return (new QuotaDecision(QuotaOutcome.TooLarge, TimeSpan.Zero, $"{messages} messages exceed the key's limit per minute or per day"), this);
        }

        if (dailyQuota is { } daily && used + messages > daily)
        {
            var midnight = new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return (new QuotaDecision(QuotaOutcome.DailyQuotaExhausted, midnight - now, $"daily quota of {daily} messages used up until midnight UTC"), this);
        }

        var second = now.ToUnixTimeSeconds();
        var window = Recent.Where(r => r.Second > second - WindowSeconds).ToList();
        if (ratePerMinute is { } rate && window.Sum(r => (long)r.Count) + messages > rate)
        {
            var retryAt = RetryAt(window, window.Sum(r => (long)r.Count) + messages - rate);
            return (new QuotaDecision(QuotaOutcome.RateLimited, DateTimeOffset.FromUnixTimeSeconds(retryAt) - now, $"rate of {rate} messages per minute reached"), this);
        }

        if (window.Count > 0 && window[^1].Second == second)
        {
            window[^1] = window[^1] with { Count = window[^1].Count + messages };
        }
        else
        {
            window.Add(new SecondCount(second, messages));
        }

        return (QuotaDecision.Allow, new QuotaCounter(window, day, used + messages));
    }

    /// <summary>When enough of the oldest seconds have left the window to make room for <paramref name="excess"/> messages.</summary>
    private static long RetryAt(List<SecondCount> window, long excess)
    {
        long freed = 0;
        foreach (var entry in window)
        {
            freed += entry.Count;
            if (freed >= excess)
            {
                return entry.Second + WindowSeconds;
            }
        }

        return window[^1].Second + WindowSeconds; // not reached: the request alone fits the rate (TooLarge above)
    }
}
