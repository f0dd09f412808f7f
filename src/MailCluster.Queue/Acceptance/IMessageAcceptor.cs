using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Acceptance;

/// <summary>
/// Makes a finished message durable before the edge answers 250 (DESIGN invariant 1). A result of
/// <see cref="AcceptOutcome.Accepted"/> means the body and every recipient domain's Enqueued event are committed
/// and the message is deliverable; <see cref="AcceptOutcome.Failed"/> means the edge answers 451 4.3.0 and nothing
/// written for the message will ever be delivered.
/// </summary>
public interface IMessageAcceptor
{
    Task<AcceptResult> AcceptAsync(string messageId, string sender, IReadOnlyList<string> recipients, DsnEnvelope? dsn, ReadOnlyMemory<byte> body, CancellationToken cancellationToken);

    /// <summary>As above, with what the acceptance path knows for the delivery events (issue 16): the Message-ID header,
    /// the credential, the metadata (<c>X-MC-Meta-*</c> headers, or the HTTP injection request's meta), the client and its
    /// TLS. Persisted with the Enqueued events. An acceptor without events ignores them.</summary>
    Task<AcceptResult> AcceptAsync(
        string messageId, string sender, IReadOnlyList<string> recipients, DsnEnvelope? dsn, ReadOnlyMemory<byte> body, Events.AcceptanceDetails? details, CancellationToken cancellationToken) =>
        AcceptAsync(messageId, sender, recipients, dsn, body, cancellationToken);
}

public enum AcceptOutcome
{
    Accepted,
    Failed,
}

public sealed record AcceptResult(AcceptOutcome Outcome, string MessageId, string? Error);
