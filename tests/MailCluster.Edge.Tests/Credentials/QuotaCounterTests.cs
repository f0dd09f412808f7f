using MailCluster.Edge.Credentials;
using MailCluster.Edge.Credentials.Quota;
using Xunit;

namespace MailCluster.Edge.Tests.Credentials;

public class QuotaCounterTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static (QuotaOutcome Outcome, QuotaCounter Next) Take(QuotaCounter c, DateTimeOffset at, int n, int? rate, int? daily)
    {
        var (decision, next) = c.TryConsume(at, n, rate, daily);
        return (decision.Outcome, next);
    }

    [Fact]
    public void A_fresh_key_sends_its_rate_at_once_then_waits_for_the_oldest_second_to_leave_the_window()
    {
        var c = QuotaCounter.Empty;
        QuotaOutcome outcome;
        (outcome, c) = Take(c, Noon, 3, rate: 4, daily: null);
        Assert.Equal(QuotaOutcome.Allowed, outcome);
        (outcome, c) = Take(c, Noon.AddSeconds(10), 1, rate: 4, daily: null);
        Assert.Equal(QuotaOutcome.Allowed, outcome);

        var (refused, same) = c.TryConsume(Noon.AddSeconds(20), 1, 4, null);
        Assert.Equal(QuotaOutcome.RateLimited, refused.Outcome);
        Assert.Same(c, same);
        Assert.Equal(TimeSpan.FromSeconds(40), refused.RetryAfter); // the 3 of Noon leave the window at Noon + 60 s
        Assert.Equal(40, refused.RetryAfterSeconds);

        Assert.Equal(QuotaOutcome.RateLimited, Take(c, Noon.AddSeconds(59.9), 1, 4, null).Outcome);
        var (after, next) = Take(c, Noon.AddSeconds(60), 3, 4, null);
        Assert.Equal(QuotaOutcome.Allowed, after);
        var (full, _) = next.TryConsume(Noon.AddSeconds(60), 1, 4, null);
        Assert.Equal(TimeSpan.FromSeconds(10), full.RetryAfter); // then the one of Noon + 10 s
    }

    [Fact]
    public void No_60_second_window_ever_holds_more_than_the_rate()
    {
        var random = new Random(20);
        var c = QuotaCounter.Empty;
        var sent = new List<(DateTimeOffset At, int N)>();
        var at = Noon;
        for (var i = 0; i < 3_000; i++)
        {
            at = at.AddMilliseconds(random.Next(0, 400));
            var n = random.Next(1, 4);
            var (outcome, next) = Take(c, at, n, rate: 10, daily: null);
            if (outcome == QuotaOutcome.Allowed)
            {
                sent.Add((at, n));
                c = next;
            }
        }

        var first = Noon.ToUnixTimeSeconds();
        var last = at.ToUnixTimeSeconds();
        for (var s = first; s <= last; s++)
        {
            var inWindow = sent.Where(x => x.At.ToUnixTimeSeconds() >= s && x.At.ToUnixTimeSeconds() < s + 60).Sum(x => x.N);
            Assert.InRange(inWindow, 0, 10);
        }

        Assert.True(sent.Sum(x => x.N) >= 8 * ((last - first) / 60), "the rate is also (nearly) reached, not only held");
        Assert.InRange(c.Recent.Count, 1, 60);
    }

    [Fact]
    public void Daily_quota_is_all_or_nothing_and_starts_again_at_midnight_UTC()
    {
        var (o1, c) = Take(QuotaCounter.Empty, Noon, 3, rate: null, daily: 5);
        Assert.Equal(QuotaOutcome.Allowed, o1);

        var (refused, same) = c.TryConsume(Noon, 3, null, 5);
        Assert.Equal(QuotaOutcome.DailyQuotaExhausted, refused.Outcome);
        Assert.Same(c, same);
        Assert.Equal(TimeSpan.FromHours(12), refused.RetryAfter);

        (o1, c) = Take(c, Noon, 2, null, 5);
        Assert.Equal(QuotaOutcome.Allowed, o1);
        Assert.Equal(QuotaOutcome.DailyQuotaExhausted, Take(c, Noon.AddHours(11.9), 1, null, 5).Outcome);
        Assert.Equal(QuotaOutcome.Allowed, Take(c, Noon.AddHours(12), 1, null, 5).Outcome);
    }

    [Fact]
    public void A_refused_request_takes_nothing_from_the_other_limit()
    {
        var (_, c) = Take(QuotaCounter.Empty, Noon, 2, rate: 2, daily: 10);
        var (outcome, next) = Take(c, Noon, 1, 2, 10);
        Assert.Equal(QuotaOutcome.RateLimited, outcome);
        Assert.Equal(2, next.UsedToday);
    }

    [Fact]
    public void A_request_larger_than_a_limit_can_never_pass()
    {
        Assert.Equal(QuotaOutcome.TooLarge, Take(QuotaCounter.Empty, Noon, 11, rate: 10, daily: null).Outcome);
        Assert.Equal(QuotaOutcome.TooLarge, Take(QuotaCounter.Empty, Noon, 6, rate: null, daily: 5).Outcome);
        Assert.Equal(QuotaOutcome.Allowed, Take(QuotaCounter.Empty, Noon, 1_000_000, rate: null, daily: null).Outcome);
    }

    [Fact]
    public void Quota_messages_round_trip_through_the_serializer()
    {
        using var system = Akka.Actor.ActorSystem.Create("quota-serializer-test");
        var serializer = new QuotaSerializer((Akka.Actor.ExtendedActorSystem)system);
        object[] messages = [new ConsumeQuota("key_0123456789abcdef", 3, 10, null), new QuotaReply(QuotaOutcome.RateLimited, 1500, "rate")];
        foreach (var m in messages)
        {
            Assert.Equal(m, serializer.FromBinary(serializer.ToBinary(m), serializer.Manifest(m)));
        }

        Assert.Equal("mc.quota.consume.v1", serializer.Manifest(messages[0]));
        Assert.Equal("mc.quota.reply.v1", serializer.Manifest(messages[1]));
    }
}
