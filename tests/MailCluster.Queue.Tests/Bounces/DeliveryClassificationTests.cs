using MailCluster.Queue.Bounces;
using MailCluster.Queue.Protocol;
using Xunit;

namespace MailCluster.Queue.Tests.Bounces;

/// <summary>Which outcomes are labelled and which reach the hard-bounce sink.</summary>
public sealed class DeliveryClassificationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Bounces_and_deferrals_are_labelled_and_only_bounces_reach_the_sink()
    {
        var sink = new RecordingSink();
        var classification = new DeliveryClassification(new RegexBounceClassifier(BounceRules.Defaults()), BounceMetrics.Detached, sink);

        var bounced = classification.Observe("Q1", T0, new RecipientResult("a@example.com", RecipientResultKind.Failed, 550, "5.1.1", "user unknown", null));
        var deferred = classification.Observe("Q1", T0, new RecipientResult("b@example.com", RecipientResultKind.Deferred, 452, "4.2.2", "mailbox full", T0));
        var odd = classification.Observe("Q1", T0, new RecipientResult("c@example.com", RecipientResultKind.Failed, 550, "5.0.0", "computer says no", null));
        var delivered = classification.Observe("Q1", T0, new RecipientResult("d@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null));

        Assert.Equal(("InvalidRecipient", "QuotaIssues", DeliveryClassification.Uncategorized, (string?)null), (bounced, deferred, odd, delivered));
        Assert.Equal(
            [new HardBounce("a@example.com", "InvalidRecipient", 550, "5.1.1", "user unknown", "Q1", T0), new HardBounce("c@example.com", "Uncategorized", 550, "5.0.0", "computer says no", "Q1", T0)],
            sink.Bounces);
    }

    [Fact]
    public void Without_a_classifier_nothing_is_labelled() =>
        Assert.Null(DeliveryClassification.None.Observe("Q1", T0, new RecipientResult("a@example.com", RecipientResultKind.Failed, 550, "5.1.1", "user unknown", null)));

    private sealed class RecordingSink : IHardBounceSink
    {
        public List<HardBounce> Bounces { get; } = [];

        public void Bounced(HardBounce bounce) => Bounces.Add(bounce);
    }
}
