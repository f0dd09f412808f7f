namespace MailCluster.Queue.Delivery;

/// <summary>
/// Delivers one message to the recipients of one domain and reports an outcome per recipient.
/// Contract: never throws for remote or network failures; every recipient in the request gets exactly
/// one <see cref="RecipientOutcome"/> (STYLE habit 3: decide permanent or transient where it is known).
/// Only cancellation may surface as an exception.
/// </summary>
public interface IDeliverer
{
    Task<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken cancellationToken);
}

/// <param name="Domain">The normalised recipient domain (lower-case, IDNA A-label) the recipients share.</param>
/// <param name="Sender">The reverse-path without angle brackets; empty for the null sender.</param>
/// <param name="Body">The message exactly as spooled (CRLF line endings, Received header already prepended).</param>
/// <param name="Dsn">RFC 3461 parameters to pass on to a next hop that offers DSN; null when none were given.</param>
public sealed record DeliveryRequest(
    string Domain,
    string MessageId,
    string Sender,
    IReadOnlyList<string> Recipients,
    ReadOnlyMemory<byte> Body,
    Protocol.DsnEnvelope? Dsn = null);

public enum OutcomeKind
{
    Delivered,
    Transient,
    Permanent,
}

/// <param name="Code">The SMTP reply code that decided the outcome (e.g. 250, 451, 550); 0 when no reply was received (network error).</param>
/// <param name="EnhancedCode">RFC 3463 code, e.g. "2.0.0", "4.4.1" (network), "5.1.1".</param>
public sealed record RecipientOutcome(string Recipient, OutcomeKind Kind, int Code, string EnhancedCode, string Text);

/// <param name="RemoteMta">The host that gave the final answer, if any connection succeeded.</param>
/// <param name="TlsProtocol">"TLSv1.3" etc. when the transaction ran over TLS, else null.</param>
/// <param name="RemoteOffersDsn">Whether the next hop advertised DSN (RFC 3461): a successful delivery to
/// one that did not is reported as "relayed" to a sender who asked NOTIFY=SUCCESS.</param>
/// <param name="FinalDelivery">True when the next hop is the final mailbox store (LMTP): success is "delivered".</param>
public sealed record DeliveryResult(
    IReadOnlyList<RecipientOutcome> Outcomes,
    string? RemoteMta,
    string? TlsProtocol,
    bool RemoteOffersDsn = false,
    bool FinalDelivery = false);
