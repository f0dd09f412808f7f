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

    /// <summary>Since when an operator holds the message (<see cref="MessageOnHold"/>); null when not on hold.</summary>
    public DateTimeOffset? OnHoldSince { get; init; }

    /// <summary>The total length of the operator holds released so far.</summary>
    public TimeSpan HeldBefore { get; init; }

    public bool IsOnHold => OnHoldSince is not null;

    /// <summary>
    /// The message's age for expiry (Retry:MaxAgeSeconds) at <paramref name="now"/>: the time since arrival minus every
    /// operator hold, the released ones (<see cref="HeldBefore"/>) and the current one (since <see cref="OnHoldSince"/>).
    /// So the age clock stops while the message is on hold and runs on from where it stopped once released; a message
    /// held for two days of a five-day maximum age still has what it had left when it was held. Both parts are in the
    /// persisted events, so every node and every restart counts the same age. (Mail-log delays, DSN arrival dates,
    /// delay warnings and the oldest-message metric keep the wall-clock age: the sender did wait that long.)
    /// </summary>
    public TimeSpan AgeAt(DateTimeOffset now)
    {
        var held = HeldBefore + (OnHoldSince is { } since && now > since ? now - since : TimeSpan.Zero);
        var age = now - ArrivedAt - held;
        return age > TimeSpan.Zero ? age : TimeSpan.Zero;
    }

    /// <summary>The earliest next attempt of a pending recipient (<see cref="DateTimeOffset.MaxValue"/> when none). Loops
    /// over the list's own enumerator: this runs several times per event (the due index's keys).</summary>
    public DateTimeOffset NextAttemptAt
    {
        get
        {
            var next = DateTimeOffset.MaxValue;
            foreach (var r in Pending)
            {
                if (r.NextAttemptAt < next)
                {
                    next = r.NextAttemptAt;
                }
            }

            return next;
        }
    }

    public ImmutableList<PendingRecipient> DueAt(DateTimeOffset now) => Pending.RemoveAll(r => r.NextAttemptAt > now);

    /// <summary>The addresses of the recipients due at <paramref name="now"/>, in order (what a delivery sends).</summary>
    public IReadOnlyList<string> DueAddresses(DateTimeOffset now)
    {
        var due = new List<string>(Pending.Count);
        foreach (var r in Pending)
        {
            if (r.NextAttemptAt <= now)
            {
                due.Add(r.Address);
            }
        }

        return due;
    }

    /// <summary>The pending recipient <paramref name="address"/> (ordinal), or null.</summary>
    public PendingRecipient? PendingOf(string address)
    {
        foreach (var r in Pending)
        {
            if (string.Equals(r.Address, address, StringComparison.Ordinal))
            {
                return r;
            }
        }

        return null;
    }

    /// <summary>RCPT NOTIFY of <paramref name="recipient"/>, upper-cased, or null when the sender gave none.</summary>
    public string? NotifyOf(string recipient) =>
        Dsn?.Recipients.FirstOrDefault(r => string.Equals(r.Address, recipient, StringComparison.OrdinalIgnoreCase))?.Notify?.ToUpperInvariant();

    public string? OriginalRecipientOf(string recipient) =>
        Dsn?.Recipients.FirstOrDefault(r => string.Equals(r.Address, recipient, StringComparison.OrdinalIgnoreCase))?.OriginalRecipient;
}
