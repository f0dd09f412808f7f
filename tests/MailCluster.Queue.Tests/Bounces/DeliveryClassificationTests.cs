using MailCluster.Queue.Bounces;
using MailCluster.Queue.Protocol;
using Xunit;

namespace MailCluster.Queue.Tests.Bounces;

/// <summary>Which outcomes are labelled.</summary>
public sealed class DeliveryClassificationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Bounces_and_deferrals_are_labelled()
    {
        var classification = new DeliveryClassification(new RegexBounceClassifier(BounceRules.Defaults()), BounceMetrics.Detached);

        var bounced = classification.Observe(new RecipientResult("a@example.com", RecipientResultKind.Failed, 550, "5.1.1", "user unknown", null));
        var deferred = classification.Observe(new RecipientResult("b@example.com", RecipientResultKind.Deferred, 452, "4.2.2", "mailbox full", T0));
        var odd = classification.Observe(new RecipientResult("c@example.com", RecipientResultKind.Failed, 550, "5.0.0", "computer says no", null));
        var delivered = classification.Observe(new RecipientResult("d@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null));

        Assert.Equal(("InvalidRecipient", "QuotaIssues", DeliveryClassification.Uncategorized, (string?)null), (bounced, deferred, odd, delivered));
    }

    [Fact]
    public void Without_a_classifier_nothing_is_labelled() =>
        Assert.Null(DeliveryClassification.None.Observe(new RecipientResult("a@example.com", RecipientResultKind.Failed, 550, "5.1.1", "user unknown", null)));
}
