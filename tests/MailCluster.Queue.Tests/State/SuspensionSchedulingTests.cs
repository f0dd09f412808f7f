using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;
using MailCluster.Queue.Suspensions;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>A destination suspension gates the scheduler (no start, wake-up at its end, nothing recorded), and the
/// node's <see cref="SuspensionSet"/> answers for every bucket of a domain and wakes its watchers on change.</summary>
public class SuspensionSchedulingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(new RetryOptions { InitialSeconds = 60, MaxSeconds = 600, MaxAgeSeconds = 3600, Jitter = 0 });
    private static readonly QueueOptions Options = new() { MaxConcurrentDeliveriesPerDomain = 10, CommitGraceSeconds = 120 };

    private static DeliveryScheduler Scheduler() => new(new DomainShaping(2, 100, null, TimeSpan.FromSeconds(5)), Options, Retry);

    private static DomainQueueState Queue(int messages)
    {
        var state = DomainQueueState.Empty("example.com");
        for (int i = 1; i <= messages; i++)
        {
            state = state.Apply(new Enqueued("example.com", $"M{i}", "s@sender.test", [$"a{i}@example.com"], T0));
        }

        return state;
    }

    [Fact]
    public void A_suspended_queue_starts_nothing_wakes_at_the_end_and_then_delivers()
    {
        var state = Queue(2);
        var until = T0.AddMinutes(30);

        var (scheduler, step) = Scheduler().Next(state, writing: false, T0.AddMinutes(1), until);
        Assert.Equal(StepKind.Run, step.Kind);
        Assert.Empty(step.Starts);
        Assert.Equal(until, step.WakeAt);
        Assert.Empty(scheduler.InFlight);
        Assert.False(scheduler.Shaping.BackingOff);

        // At the end (the suspension is no longer active), both start.
        (_, step) = scheduler.Next(state, writing: false, until, until);
        Assert.Equal(2, step.Starts.Count);
    }

    [Fact]
    public void A_suspension_records_nothing_so_a_message_past_its_maximum_age_still_gets_an_attempt_at_the_end()
    {
        // Max age 1 h; suspended for 2 h from arrival. Nothing was decided in between, so the state is untouched and
        // the first attempt happens when the suspension ends; only its failure would expire the recipient.
        var state = Queue(1);
        var (_, step) = Scheduler().Next(state, writing: false, T0.AddMinutes(59), T0.AddHours(2));
        Assert.Empty(step.Starts);
        Assert.Equal(0, state.Messages["M1"].Pending[0].Attempts);

        (_, step) = Scheduler().Next(state, writing: false, T0.AddHours(2), T0.AddHours(2));
        Assert.Equal("M1", Assert.Single(step.Starts).Message.MessageId);
    }

    [Fact]
    public void The_set_answers_for_a_domain_and_every_bucket_asks_by_its_domain()
    {
        var set = new SuspensionSet(loaded: false);

        // Not read yet: every domain waits a short while, so a queue recovered on a new node sends nothing before it knows.
        Assert.Equal(T0 + SuspensionSet.UnknownRecheck, set.UntilFor("example.com", T0));

        set.Replace([new DestinationSuspension("example.com", "their MX is overloaded", T0, T0.AddHours(1))]);
        Assert.True(set.Loaded);
        Assert.Equal(T0.AddHours(1), set.UntilFor(QueueKey.Parse("example.com#3").Domain, T0));
        Assert.Null(set.UntilFor("other.test", T0));

        // It ends by itself.
        Assert.Null(set.UntilFor("example.com", T0.AddHours(1)));
        Assert.Empty(set.Active(T0.AddHours(1)));
        Assert.Equal("their MX is overloaded", Assert.Single(set.Active(T0)).Reason);
    }

    [Fact]
    public void Watchers_of_a_changed_domain_are_called_and_everyone_on_the_first_read()
    {
        var set = new SuspensionSet(loaded: false);
        var calls = new List<string>();
        using var a = set.Watch("example.com", () => calls.Add("example.com"));
        var b = set.Watch("other.test", () => calls.Add("other.test"));

        var suspension = new DestinationSuspension("example.com", "r", T0, T0.AddHours(1));
        set.Replace([suspension]);
        Assert.Equal(["example.com", "other.test"], calls.Order(StringComparer.Ordinal));

        calls.Clear();
        set.Replace([suspension]);
        Assert.Empty(calls);

        b.Dispose();
        set.Replace([]);
        Assert.Equal(["example.com"], calls);
    }
}
