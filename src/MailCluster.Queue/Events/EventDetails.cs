using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Events;

// The delivery events' context of a reception and of an attempt (issue 16), persisted inside the event they describe
// (Enqueued.Details and AttemptCompleted.Details, manifests mc.queue.enqueued.v2 and mc.queue.attempt-completed.v2).
// The release that introduced them wrote each as a journal row of its own, just before the event, in the same
// PersistAll (manifests mc.queue.reception-details.v1 and mc.queue.attempt-details.v1); those rows stay readable for
// ever and the projection still uses them. These records ARE a storage format: rename nothing, add only optional
// fields. The queue's state ignores them (DomainQueueState.Apply); a journal without them (older releases, or events
// turned off) still projects, with the fields they carry left null.

/// <summary>What the acceptance knew of a message beyond its envelope: the record of its Reception events.</summary>
/// <param name="MessageId">The queue id (the spool's message id).</param>
/// <param name="HeaderMessageId">The Message-ID header field's value, when the message has one.</param>
/// <param name="Size">The spooled size in bytes (the body as stored, trace header included).</param>
/// <param name="Credential">The authenticated SMTP user or API key id that submitted it; null when unauthenticated.</param>
/// <param name="Meta">The submission's metadata: <c>X-MC-Meta-*</c> header fields of authenticated submissions (name
/// without the prefix, lower-cased) or the HTTP injection request's meta.</param>
/// <param name="PeerName">The client's EHLO/HELO name.</param>
/// <param name="PeerAddress">The client's IP address.</param>
/// <param name="Node">The node that accepted the message.</param>
public sealed record ReceptionDetails(
    string MessageId,
    string? HeaderMessageId,
    long Size,
    string? Credential,
    IReadOnlyDictionary<string, string>? Meta,
    string? PeerName,
    string? PeerAddress,
    string? TlsProtocol,
    string? TlsCipher,
    string? Node) : IQueueMessage;

/// <summary>Where one delivery attempt of a message went: the next hop and the TLS of the connection, and the node that
/// ran it. Persisted just before the attempt's <see cref="AttemptCompleted"/>.</summary>
/// <param name="PeerName">The host that answered (the MX or smarthost name), or the one tried when none answered.</param>
/// <param name="PeerAddress">Its address (<c>ip:port</c>), when a connection was made or tried.</param>
public sealed record AttemptDetails(
    string MessageId,
    DateTimeOffset At,
    string? PeerName,
    string? PeerAddress,
    string? TlsProtocol,
    string? TlsCipher,
    string? Node) : IQueueMessage;

/// <summary>The acceptance path's part of <see cref="ReceptionDetails"/>, given to
/// <see cref="Acceptance.IMessageAcceptor"/> by the edge (SMTP) or the HTTP injection API. All optional.</summary>
/// <param name="Meta">The request's metadata (see <see cref="ReceptionDetails.Meta"/>); the HTTP injection API passes its
/// request's meta here.</param>
public sealed record AcceptanceDetails(
    string? HeaderMessageId = null,
    string? Credential = null,
    IReadOnlyDictionary<string, string>? Meta = null,
    string? PeerName = null,
    string? PeerAddress = null,
    string? TlsProtocol = null,
    string? TlsCipher = null)
{
    public ReceptionDetails ToReception(string messageId, long size, string? node) =>
        new(messageId, HeaderMessageId, size, Credential, Meta is { Count: > 0 } ? Meta : null, PeerName, PeerAddress, TlsProtocol, TlsCipher, node);
}
