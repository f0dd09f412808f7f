using MailCluster.Queue.Bounces;
using MailCluster.Queue.Contracts;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Suppression;

/// <summary>
/// Which persisted outcomes add a recipient to the suppression list, and the entry each adds (global scope: the domain
/// queue does not know which credential submitted a message): a permanent failure whose bounce label is one of
/// <see cref="SuppressionOptions.EffectiveLabels"/>. Pure: the suppression projection applies it to the journal's
/// <see cref="AttemptCompleted"/> events, so an entry follows the persisted bounce, never a write on the side that a node
/// dying in between would lose. The entry is dated by the attempt, not by when it is projected, so projecting the same
/// attempt again writes the same entry.
/// </summary>
public static class AutoSuppression
{
    /// <summary>The hard bounces of <paramref name="attempt"/> that add an entry; none when automatic suppression is off.</summary>
    public static IEnumerable<HardBounce> BouncesOf(AttemptCompleted attempt, IBounceClassifier classifier, SuppressionOptions options)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.AutoSuppress)
        {
            yield break;
        }

        foreach (var result in attempt.Results.Where(r => r.Kind == RecipientResultKind.Failed))
        {
            var label = classifier.Classify(result.Code, result.EnhancedCode, result.Text) ?? DeliveryClassification.Uncategorized;
            if (options.EffectiveLabels.Contains(label, StringComparer.OrdinalIgnoreCase))
            {
                yield return new HardBounce(result.Recipient, label, result.Code, result.EnhancedCode, result.Text, attempt.MessageId, attempt.At);
            }
        }
    }

    /// <summary>The entry a hard bounce makes, created at <paramref name="now"/> (the bounce's own time when projected).</summary>
    public static SuppressionEntry EntryFor(HardBounce bounce, TimeSpan expiry, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(bounce);
        var source = $"{bounce.MessageId}: {bounce.Code} {bounce.EnhancedCode} {bounce.Text}";
        return new SuppressionEntry(
            SuppressionEntry.Normalize(bounce.Recipient),
            null,
            $"hard bounce ({bounce.Label})",
            source.Length > SuppressionEntry.MaxSourceLength ? source[..SuppressionEntry.MaxSourceLength] : source,
            now,
            now + expiry);
    }
}
