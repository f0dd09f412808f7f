using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>DSN reports in the pure domain-queue state: decided with the attempt, kept (and snapshotted) until queued.</summary>
public class DsnStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(new RetryOptions { InitialSeconds = 60, MaxSeconds = 600, MaxAgeSeconds = 36000, Jitter = 0, DelayWarningSeconds = 3600 });

    private static DomainQueueState With(string sender, DsnEnvelope? dsn, params string[] recipients) =>
        DomainQueueState.Empty("example.com").Apply(new Enqueued("example.com", "M1", sender, recipients, T0, dsn));

    private static DeliveryResult Result(params RecipientOutcome[] outcomes) => new(outcomes, "mx1.example.com[192.0.2.1]", "TLSv1.3");

    [Fact]
    public void NOTIFY_NEVER_and_null_sender_get_no_report()
    {
        var dsn = new DsnEnvelope(null, null, [new DsnRecipient("a@example.com", "NEVER", null)]);
        var never = With("s@x.test", dsn, "a@example.com");
        var attempt = never.Decide("M1", Result(new RecipientOutcome("a@example.com", OutcomeKind.Permanent, 550, "5.1.1", "no")), T0, Retry, () => 0.5)!;
        Assert.Null(attempt.Results[0].Report);
        Assert.True(never.Apply(attempt).IsEmpty);

        var bounce = With("", null, "a@example.com");
        attempt = bounce.Decide("M1", Result(new RecipientOutcome("a@example.com", OutcomeKind.Permanent, 550, "5.1.1", "no")), T0, Retry, () => 0.5)!;
        Assert.True(bounce.Apply(attempt).IsEmpty);
    }

    [Fact]
    public void Delay_warning_is_reported_once_and_survives_a_snapshot()
    {
        var state = With("s@x.test", new DsnEnvelope("FULL", "e1", [new DsnRecipient("a@example.com", null, "rfc822;A@example.com")]), "a@example.com");
        var transient = new RecipientOutcome("a@example.com", OutcomeKind.Transient, 451, "4.3.0", "later");

        var early = state.Decide("M1", Result(transient), T0.AddMinutes(30), Retry, () => 0.5)!;
        Assert.Null(early.Results[0].Report);
        state = state.Apply(early);
        var late = state.Decide("M1", Result(transient), T0.AddHours(1), Retry, () => 0.5)!;
        Assert.Equal("delayed", late.Results[0].Report);
        state = state.Apply(late);

        var restored = DomainQueueState.FromSnapshot(state.ToSnapshot());
        var message = restored.Messages["M1"];
        Assert.True(message.Pending[0].DelayWarned);
        Assert.Equal(("delayed", "4.3.0", "mx1.example.com[192.0.2.1]"), (message.Reports[0].Action, message.Reports[0].Status, message.Reports[0].RemoteMta));
        Assert.Equal("rfc822;A@example.com", message.OriginalRecipientOf("a@example.com"));
        Assert.Equal("FULL", message.Dsn!.Ret);

        var again = restored.Decide("M1", Result(transient), T0.AddHours(2), Retry, () => 0.5)!;
        Assert.Null(again.Results[0].Report);
        var queued = restored.DecideDsnQueued("M1", ["a@example.com"], "D1", T0.AddHours(2))!;
        Assert.Empty(restored.Apply(queued).Messages["M1"].Reports);
        Assert.Single(restored.Apply(queued).Messages["M1"].Pending);
        Assert.Null(restored.Apply(queued).DecideDsnQueued("M1", ["a@example.com"], "D2", T0));
    }
}
