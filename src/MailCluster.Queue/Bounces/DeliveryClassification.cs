using MailCluster.Queue.Contracts;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Bounces;

/// <summary>A recipient's permanent failure, as the suppression list learns of it (<see cref="Suppression.AutoSuppression"/>).</summary>
public sealed record HardBounce(string Recipient, string Label, int Code, string EnhancedCode, string Text, string MessageId, DateTimeOffset At);

/// <summary>
/// What a domain queue does with a decided attempt's failures besides logging them: labels each deferral and bounce
/// (<see cref="IBounceClassifier"/>) and counts it by label. Runs after the attempt is persisted; a node that dies in
/// between loses the count, never mail. The suppression list does not learn of hard bounces here but from the journal
/// (the suppression projection), so it loses nothing either.
/// </summary>
public sealed class DeliveryClassification(IBounceClassifier? classifier, BounceMetrics metrics)
{
    public const string Uncategorized = "Uncategorized";

    /// <summary>Classifies nothing: the label is null and nothing is counted.</summary>
    public static readonly DeliveryClassification None = new(null, BounceMetrics.Detached);

    /// <summary>The label of one recipient's result (null for a delivery, or when no classifier is configured), counted.</summary>
    public string? Observe(RecipientResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (classifier is null || result.Kind is not (RecipientResultKind.Deferred or RecipientResultKind.Failed))
        {
            return null;
        }

        var label = classifier.Classify(result.Code, result.EnhancedCode, result.Text) ?? Uncategorized;
        metrics.Count(DeliveryLog.StatusOf(result.Kind), label);
        return label;
    }
}
