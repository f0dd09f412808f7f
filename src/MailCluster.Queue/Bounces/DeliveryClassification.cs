using MailCluster.Queue.Contracts;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Bounces;

/// <summary>A recipient's permanent failure, as the suppression list learns of it.</summary>
public sealed record HardBounce(string Recipient, string Label, int Code, string EnhancedCode, string Text, string MessageId, DateTimeOffset At);

/// <summary>Told of every classified hard bounce (the automatic suppression list). Must return at once, never throw:
/// it is called from a domain queue's persist handler.</summary>
public interface IHardBounceSink
{
    void Bounced(HardBounce bounce);
}

/// <summary>
/// What a domain queue does with a decided attempt's failures besides logging them: labels each deferral and bounce
/// (<see cref="IBounceClassifier"/>), counts it by label, and hands hard bounces to the suppression list. Runs after
/// the attempt is persisted; a node that dies in between loses the count and the automatic suppression entry, never
/// mail (the delivery events, derived from the journal, still carry the outcome).
/// </summary>
public sealed class DeliveryClassification(IBounceClassifier? classifier, BounceMetrics metrics, IHardBounceSink? hardBounces)
{
    public const string Uncategorized = "Uncategorized";

    /// <summary>Classifies nothing: the label is null and nothing is counted or suppressed.</summary>
    public static readonly DeliveryClassification None = new(null, BounceMetrics.Detached, null);

    /// <summary>The label of one recipient's result (null for a delivery, or when no classifier is configured), counted,
    /// and for a permanent failure handed to the hard-bounce sink.</summary>
    public string? Observe(string messageId, DateTimeOffset at, RecipientResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (classifier is null || result.Kind is not (RecipientResultKind.Deferred or RecipientResultKind.Failed))
        {
            return null;
        }

        var label = classifier.Classify(result.Code, result.EnhancedCode, result.Text) ?? Uncategorized;
        metrics.Count(DeliveryLog.StatusOf(result.Kind), label);
        if (result.Kind == RecipientResultKind.Failed)
        {
            hardBounces?.Bounced(new HardBounce(result.Recipient, label, result.Code, result.EnhancedCode, result.Text, messageId, at));
        }

        return label;
    }
}
