using MailCluster.Queue.Bounces;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Suppression;
using Xunit;

namespace MailCluster.Queue.Tests.Suppression;

/// <summary>Which persisted outcomes add an entry: permanent failures of the configured labels, dated by the attempt.</summary>
public sealed class AutoSuppressionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);
    private static readonly RegexBounceClassifier Classifier = new(BounceRules.Defaults());

    private static readonly AttemptCompleted Attempt = new("Q1", T0,
    [
        new RecipientResult("a@example.com", RecipientResultKind.Failed, 550, "5.1.1", "user unknown", null),
        new RecipientResult("b@example.com", RecipientResultKind.Deferred, 450, "4.1.1", "user unknown, try later", T0.AddMinutes(5)),
        new RecipientResult("c@example.com", RecipientResultKind.Failed, 550, "5.0.0", "computer says no", null),
        new RecipientResult("d@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null),
    ], "mx.example.com", null);

    [Fact]
    public void Only_permanent_failures_of_a_configured_label_add_an_entry() =>
        Assert.Equal(
            [new HardBounce("a@example.com", "InvalidRecipient", 550, "5.1.1", "user unknown", "Q1", T0)],
            AutoSuppression.BouncesOf(Attempt, Classifier, new SuppressionOptions()).ToList());

    [Fact]
    public void Configured_labels_replace_the_defaults_and_auto_suppress_false_adds_nothing()
    {
        Assert.Equal(["c@example.com"], AutoSuppression.BouncesOf(Attempt, Classifier, new SuppressionOptions { Labels = ["uncategorized"] }).Select(b => b.Recipient).ToList());
        Assert.Empty(AutoSuppression.BouncesOf(Attempt, Classifier, new SuppressionOptions { AutoSuppress = false }));
    }

    [Fact]
    public void Projecting_the_same_attempt_again_makes_the_same_entry()
    {
        var options = new SuppressionOptions();
        SuppressionEntry Project() => AutoSuppression.BouncesOf(Attempt, Classifier, options).Select(b => AutoSuppression.EntryFor(b, options.Expiry, b.At)).Single();

        Assert.Equal(Project(), Project());
        Assert.Equal(T0.AddDays(30), Project().ExpiresAt);
    }
}
