using System.Collections.Immutable;

namespace MailCluster.Queue.State;

/// <summary>A recipient still waiting for delivery.</summary>
public sealed record PendingRecipient(string Address, int Attempts, DateTimeOffset NextAttemptAt, string? LastError);

/// <summary>A message with at least one pending recipient in this domain. Final recipients are dropped:
/// their outcome lives in the event that made them final.</summary>
public sealed record QueuedMessage(
    string MessageId,
    string Sender,
    DateTimeOffset ArrivedAt,
    ImmutableList<PendingRecipient> Pending)
{
    public DateTimeOffset NextAttemptAt => Pending.Min(r => r.NextAttemptAt);

    public ImmutableList<PendingRecipient> DueAt(DateTimeOffset now) => Pending.RemoveAll(r => r.NextAttemptAt > now);
}
