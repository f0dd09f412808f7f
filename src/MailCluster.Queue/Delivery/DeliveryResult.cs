namespace MailCluster.Queue.Delivery;

/// <summary>One message for the recipients of one domain, as an <see cref="IDeliveryConnection"/> sends it.</summary>
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
    bool FinalDelivery = false)
{
    /// <summary>The next hop that answered, as the mail log writes it: <c>host[address]:port</c>; the host and address
    /// when no connection was made; null when no host was tried. Never persisted (see <see cref="Protocol.AttemptCompleted.Relay"/>).</summary>
    public string? Relay { get; init; }

    /// <summary>The TLS cipher suite of the transaction's connection (e.g. <c>TLS_AES_256_GCM_SHA384</c>), when it ran over
    /// TLS; for the delivery events (issue 16). Persisted only in <see cref="Events.AttemptDetails"/>.</summary>
    public string? TlsCipher { get; init; }

    /// <summary>The attempt's result when no connection could be opened: every recipient gets the failure. The one
    /// place a <see cref="ConnectFailure"/> becomes outcomes (STYLE habit 3: one outcome per recipient).</summary>
    public static DeliveryResult ConnectFailed(ConnectFailure failure, IEnumerable<string> recipients)
    {
        ArgumentNullException.ThrowIfNull(failure);
        ArgumentNullException.ThrowIfNull(recipients);
        return new([.. recipients.Select(r => new RecipientOutcome(r, failure.Kind, failure.Code, failure.EnhancedCode, failure.Text))], failure.RemoteMta, null)
        {
            Relay = failure.RemoteMta,
        };
    }
}
