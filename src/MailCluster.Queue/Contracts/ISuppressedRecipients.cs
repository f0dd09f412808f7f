namespace MailCluster.Queue.Contracts;

/// <summary>
/// A recipient refused at acceptance because it is on the suppression list (issue 16). Nothing is queued for it; it
/// becomes a durable "Suppressed" delivery event.
/// </summary>
/// <param name="Credential">The SMTP user or API key id that submitted it.</param>
/// <param name="Meta">The request's metadata (HTTP injection, or X-MC-Meta-* headers); empty when none.</param>
public sealed record SuppressedRecipient(
    string Sender,
    string Recipient,
    string Reason,
    string? Credential,
    DateTimeOffset Timestamp,
    IReadOnlyDictionary<string, string> Meta);

/// <summary>Records <see cref="SuppressedRecipient"/> refusals as delivery events. Thread-safe.</summary>
public interface ISuppressedRecipients
{
    ValueTask RecordAsync(SuppressedRecipient refused, CancellationToken cancellationToken);
}
