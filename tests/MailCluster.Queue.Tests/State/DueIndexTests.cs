using MailCluster.Queue;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>The state's next-attempt index must always say what a walk over every message would say.</summary>
public class DueIndexTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(new RetryOptions { InitialSeconds = 60, MaxSeconds = 600, MaxAgeSeconds = 3600, Jitter = 0 });

    [Fact]
    public void Index_matches_a_full_walk_after_every_event_of_a_random_history()
    {
        var random = new Random(1234);
        var state = DomainQueueState.Empty("example.com");
        var now = T0;
        for (var step = 0; step < 2000; step++)
        {
            now = now.AddSeconds(random.Next(0, 40));
            var ids = state.Messages.Keys.ToList();
            var choice = ids.Count == 0 ? 0 : random.Next(10);
            object? e = choice switch
            {
                < 4 => state.Decide(new Enqueue("example.com", $"M{step}", random.Next(3) == 0 ? "" : "s@sender.test", Recipients(random), now)),
                < 8 => Attempt(state, ids[random.Next(ids.Count)], random, now),
                8 => new MessageAbandoned(ids[random.Next(ids.Count)], now, "test"),
                _ => Dsn(state, ids[random.Next(ids.Count)], now),
            };
            if (e is not null)
            {
                state = state.Apply(e);
            }

            AssertConsistent(state, now);
        }

        AssertConsistent(DomainQueueState.FromSnapshot(state.ToSnapshot()), now);
    }

    [Fact]
    public void Due_is_earliest_first_and_stops_at_now()
    {
        var state = DomainQueueState.Empty("example.com");
        state = state.Apply(new Enqueued("example.com", "late", "s@x.test", ["a@example.com"], T0.AddSeconds(10)));
        state = state.Apply(new Enqueued("example.com", "early", "s@x.test", ["a@example.com"], T0));
        Assert.Equal(["early"], state.Due(T0.AddSeconds(5)).Select(m => m.MessageId));
        Assert.Equal(["early", "late"], state.Due(T0.AddSeconds(10)).Select(m => m.MessageId));
    }

    private static string[] Recipients(Random random) =>
        Enumerable.Range(0, random.Next(1, 4)).Select(i => $"r{i}@example.com").ToArray();

    private static AttemptCompleted? Attempt(DomainQueueState state, string id, Random random, DateTimeOffset now)
    {
        var outcomes = state.Messages[id].Pending.Select(p => random.Next(3) switch
        {
            0 => new RecipientOutcome(p.Address, OutcomeKind.Delivered, 250, "2.0.0", "ok"),
            1 => new RecipientOutcome(p.Address, OutcomeKind.Permanent, 550, "5.1.1", "no"),
            _ => new RecipientOutcome(p.Address, OutcomeKind.Transient, 451, "4.3.0", "later"),
        }).ToArray();
        return state.Decide(id, new DeliveryResult(outcomes, "mx.example.com", null), now, Retry, random.NextDouble);
    }

    private static DsnQueued? Dsn(DomainQueueState state, string id, DateTimeOffset now) =>
        state.DecideDsnQueued(id, state.Messages[id].Reports.Select(r => r.Recipient).ToList(), "DSN", now);

    private static void AssertConsistent(DomainQueueState state, DateTimeOffset now)
    {
        var walk = state.Messages.Values.Where(m => !m.Pending.IsEmpty)
            .OrderBy(m => m.NextAttemptAt).ThenBy(m => m.ArrivedAt).ThenBy(m => m.MessageId, StringComparer.Ordinal)
            .Select(m => (m.MessageId, m.NextAttemptAt)).ToList();
        Assert.Equal(walk, state.ByNextAttempt.InOrder().ToList());
        Assert.Equal(walk.Where(w => w.NextAttemptAt <= now).Select(w => w.MessageId), state.Due(now).Select(m => m.MessageId));
        Assert.Equal(
            state.Messages.Values.Where(m => !m.Reports.IsEmpty).Select(m => m.MessageId).Order(StringComparer.Ordinal),
            state.ReportsDue.Select(m => m.MessageId).Order(StringComparer.Ordinal));
    }
}
