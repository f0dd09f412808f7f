namespace MailCluster.Queue.Protocol;

/// <summary>
/// The RFC 3461 (DSN) parameters of a message, kept with the envelope for the bounce logic.
/// Null on <see cref="Enqueued"/> when the client gave none.
/// </summary>
/// <param name="Ret">MAIL RET: <c>FULL</c> or <c>HDRS</c>, or null.</param>
/// <param name="EnvId">MAIL ENVID, xtext-decoded, or null.</param>
/// <param name="Recipients">Per-recipient NOTIFY and ORCPT, only for recipients that gave either.</param>
public sealed record DsnEnvelope(string? Ret, string? EnvId, IReadOnlyList<DsnRecipient> Recipients)
{
    /// <summary>MAIL ENVID exactly as it came on the wire (xtext), relayed unchanged to the next hop (RFC 3461 §5.2.1),
    /// as <see cref="DsnRecipient.OriginalRecipientXtext"/> is for ORCPT. Added after the first release: null in envelopes
    /// persisted before it (the relay then re-encodes <see cref="EnvId"/>).</summary>
    public string? EnvIdXtext { get; init; }
}

/// <param name="Notify">RCPT NOTIFY, upper-cased: <c>NEVER</c> or a comma list of SUCCESS, FAILURE, DELAY; null when absent.</param>
/// <param name="OriginalRecipient">RCPT ORCPT as given, e.g. <c>rfc822;user@example.com</c> (xtext-decoded); null when absent.
/// The decoded form is what a DSN's Original-Recipient field carries (RFC 3464 §2.3.1).</param>
/// <param name="OriginalRecipientXtext">RCPT ORCPT exactly as it came on the wire (<c>addr-type;xtext</c>, e.g.
/// <c>rfc822;A+41B@example.com</c>), relayed unchanged to the next hop (RFC 3461 §5.2.1). Added after the first release:
/// null in envelopes persisted before it (the relay then re-encodes <paramref name="OriginalRecipient"/>).</param>
public sealed record DsnRecipient(string Address, string? Notify, string? OriginalRecipient, string? OriginalRecipientXtext = null);
