using System.Collections.Immutable;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.State;

/// <summary>A recipient still waiting for delivery.</summary>
/// <param name="DelayWarned">A "delayed" DSN was already reported for it (one per recipient).</param>
public sealed record PendingRecipient(string Address, int Attempts, DateTimeOffset NextAttemptAt, string? LastError, bool DelayWarned = false);

/// <summary>One recipient's line of a DSN still to be queued (RFC 3464 §2.3).</summary>
/// <param name="Action">failed, delayed, delivered or relayed.</param>
/// <param name="Status">The RFC 3463 code, e.g. 5.1.1.</param>
/// <param name="Code">The SMTP reply code behind it (0 when no server answered).</param>
public sealed record DsnReport(string Recipient, string Action, string Status, int Code, string Text, string? RemoteMta, DateTimeOffset At);

/// <summary>A message with at least one pending recipient, or a DSN still to queue, in this domain. Final recipients
/// without a DSN are dropped: their outcome lives in the event that made them final.</summary>
public sealed record QueuedMessage(
    string MessageId,
    string Sender,
    DateTimeOffset ArrivedAt,
    ImmutableList<PendingRecipient> Pending)
{
    /// <summary>The sender's RFC 3461 parameters for this domain's recipients; null when none were given.</summary>
    public DsnEnvelope? Dsn { get; init; }

    /// <summary>DSN lines waiting to be queued to the sender.</summary>
    public ImmutableList<DsnReport> Reports { get; init; } = [];

    public bool IsDone => Pending.IsEmpty && Reports.IsEmpty;

    public DateTimeOffset NextAttemptAt => Pending.IsEmpty ? DateTimeOffset.MaxValue : Pending.Min(r => r.NextAttemptAt);

    public ImmutableList<PendingRecipient> DueAt(DateTimeOffset now) => Pending.RemoveAll(r => r.NextAttemptAt > now);

    /// <summary>RCPT NOTIFY of <paramref name="recipient"/>, upper-cased, or null when the sender gave none.</summary>
    public string? NotifyOf(string recipient) =>
        Dsn?.Recipients.FirstOrDefault(r => string.Equals(r.Address, recipient, StringComparison.OrdinalIgnoreCase))?.Notify?.ToUpperInvariant();

    public string? OriginalRecipientOf(string recipient) =>
        Dsn?.Recipients.FirstOrDefault(r => string.Equals(r.Address, recipient, StringComparison.OrdinalIgnoreCase))?.OriginalRecipient;
}
