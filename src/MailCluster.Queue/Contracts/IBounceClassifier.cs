namespace MailCluster.Queue.Contracts;

/// <summary>
/// Labels a peer's reply with a bounce category in KumoMTA's vocabulary (InvalidRecipient, BadDomain, InactiveMailbox,
/// QuotaIssues, SpamBlock, PolicyRelated, ...; issue 16). Implemented by the rules-file classifier; used by the delivery
/// events, the mail log and the suppression list. Thread-safe; never throws for any input.
/// </summary>
public interface IBounceClassifier
{
    /// <summary>The label for "<paramref name="code"/> <paramref name="enhancedCode"/> <paramref name="text"/>", or null when no rule matches.</summary>
    string? Classify(int code, string? enhancedCode, string text);
}
