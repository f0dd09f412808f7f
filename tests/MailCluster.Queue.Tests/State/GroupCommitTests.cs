using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>The domain queue's group commit: what goes into each journal write, and what counts as held meanwhile.</summary>
public class GroupCommitTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(new RetryOptions { InitialSeconds = 60, MaxSeconds = 600, MaxAgeSeconds = 3600, Jitter = 0 });

    private static Enqueue Enqueue(string id) => new("example.com", id, "s@sender.test", ["a@example.com"], T0);

    [Fact]
    public void Commands_that_arrive_during_a_write_go_together_into_the_next_one()
    {
        var state = DomainQueueState.Empty("example.com");
        var (writing, first) = GroupCommit<string>.Empty.Add(Enqueue("M1"), "session-1").Start(state, false, Retry, () => 0.5);
        Assert.Equal(["M1"], first!.Events.Cast<Enqueued>().Select(e => e.MessageId));
        Assert.True(writing.Pending);

        // While the write is in flight nothing else starts; the commands wait, the duplicate of M2 included.
        var waiting = writing.Add(Enqueue("M2"), "session-2").Add(Enqueue("M2"), "session-2b").Add(Enqueue("M3"), "session-3");
        Assert.Null(waiting.Start(state, false, Retry, () => 0.5).Write);

        foreach (var e in first.Events)
        {
            state = state.Apply(e);
        }

        var written = waiting.Written();
        Assert.Null(written.Start(state, snapshotting: true, Retry, () => 0.5).Write); // a snapshot holds the next write
        var (_, second) = written.Start(state, false, Retry, () => 0.5);
        Assert.Equal(["M2", "M3"], second!.Events.Cast<Enqueued>().Select(e => e.MessageId));
        Assert.Equal(["session-2", "session-2b", "session-3"], second.Acknowledge.Select(a => a.ReplyTo)); // every sender gets its ack
    }

    [Fact]
    public void Outcomes_are_decided_against_the_state_at_the_write_and_unknown_ones_are_settled()
    {
        var state = DomainQueueState.Empty("example.com").Apply(new Enqueued("example.com", "M1", "s@sender.test", ["a@example.com"], T0));
        var delivered = new DeliveryResult([new RecipientOutcome("a@example.com", OutcomeKind.Delivered, 250, "2.0.0", "ok")], "mx", null);
        var (_, batch) = GroupCommit<string>.Empty.Add("M1", delivered, T0.AddSeconds(1)).Add("GONE", delivered, T0.AddSeconds(1))
            .Start(state, false, Retry, () => 0.5);

        var attempt = Assert.IsType<AttemptCompleted>(Assert.Single(batch!.Events));
        Assert.Equal(("M1", RecipientResultKind.Delivered), (attempt.MessageId, attempt.Results[0].Kind));
        Assert.Equal(["GONE"], batch.NothingToRecord);
    }

    [Fact]
    public void Mail_buffered_or_being_written_counts_as_held()
    {
        var state = DomainQueueState.Empty("example.com").Apply(new Enqueued("example.com", "M1", "s@sender.test", ["a@example.com"], T0));
        var (writing, _) = GroupCommit<string>.Empty.Add(Enqueue("M2"), "s").Start(state, false, Retry, () => 0.5);
        writing = writing.Add(Enqueue("M3"), "s");

        Assert.Equal(["M1", "M2", "M3"], writing.Holding(state, ["M1", "M2", "M3", "M4"]).Order(StringComparer.Ordinal));
        Assert.Equal(["M1"], writing.Written().Add(Enqueue("M1"), "s").Holding(state, ["M1", "M2"]));
    }
}
