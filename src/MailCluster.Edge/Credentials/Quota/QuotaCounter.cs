namespace MailCluster.Edge.Credentials.Quota;

/// <summary>
/// One key's sending allowance, pure (the entity only holds it). Two limits, both all-or-nothing per request:
/// <list type="bullet">
/// <item>Rate: GCRA (the generic cell rate algorithm, a leaky bucket kept as one timestamp). Each message advances the
/// theoretical arrival time <see cref="RateTat"/> by 60 s / rate; a request passes while that time stays within a
/// minute of now. So a fresh key may send <c>rate</c> messages at once, then one every 60 s / rate: never more than
/// <c>rate</c> in any minute plus the one that refills, and no double burst at a fixed window's edge.</item>
/// <item>Daily quota: messages counted per UTC day; the count starts from zero at midnight UTC.</item>
/// </list>
/// </summary>
/// <param name="RateTat">When the bucket would be empty again at the rate, or <see cref="DateTimeOffset.MinValue"/>.</param>
/// <param name="Day">The UTC day <see cref="UsedToday"/> counts.</param>
public sealed record QuotaCounter(DateTimeOffset RateTat, DateOnly Day, long UsedToday)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static QuotaCounter Empty { get; } = new(DateTimeOffset.MinValue, DateOnly.MinValue, 0);

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

        var tat = RateTat;
        if (ratePerMinute is { } rate)
        {
            var interval = Window / rate;
            var newTat = (tat > now ? tat : now) + (interval * messages);
            if (newTat - now > Window)
            {
                return (new QuotaDecision(QuotaOutcome.RateLimited, newTat - now - Window, $"rate of {rate} messages per minute exceeded"), this);
            }

            tat = newTat;
        }

        return (QuotaDecision.Allow, new QuotaCounter(tat, day, used + messages));
    }
}
