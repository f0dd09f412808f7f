using MailCluster.Queue.Protocol;
using MailKit;
using MailKit.Net.Smtp;
using MimeKit;

namespace MailCluster.Outbound;

/// <summary>
/// MailKit's SMTP client with the changes a relay needs (it speaks for <see cref="SmtpClientConnection"/>): refused
/// recipients are recorded instead of aborting the transaction (one 550 among many recipients does not fail the
/// rest); the message is never re-encoded; the RFC 5321 §4.5.3.2 timeout of each stage is set as the transaction
/// reaches it; and the sender's RFC 3461 parameters (NOTIFY, ENVID, RET; MailKit writes ORCPT as the recipient
/// itself) are passed on to a peer that offers DSN.
/// </summary>
internal sealed class RelaySmtpClient(StageTimeouts timeouts) : SmtpClient
{
    /// <summary>The RCPT reply for each recipient, keyed by the instance passed to SendAsync.</summary>
    public Dictionary<MailboxAddress, SmtpResponse> RecipientReplies { get; } = new(ReferenceEqualityComparer.Instance);

    public bool NoRecipientsAccepted { get; private set; }

    /// <summary>The DSN parameters of the transaction being sent; null for none.</summary>
    public DsnEnvelope? Dsn { get; set; }

    public StageTimeouts Timeouts => timeouts;

    /// <summary>Starts a transaction: clears the per-transaction records and arms the MAIL timeout.</summary>
    public void BeginTransaction()
    {
        RecipientReplies.Clear();
        NoRecipientsAccepted = false;
        Timeout = timeouts.Mail;
        DeliveryStatusNotificationType = string.Equals(Dsn?.Ret, "FULL", StringComparison.OrdinalIgnoreCase)
            ? DeliveryStatusNotificationType.Full
            : string.Equals(Dsn?.Ret, "HDRS", StringComparison.OrdinalIgnoreCase) ? DeliveryStatusNotificationType.HeadersOnly : DeliveryStatusNotificationType.Unspecified;
    }

    /// <summary>RFC 5321 §4.1.1.5: RSET between reused transactions; also proves the connection still works.</summary>
    public Task ResetAsync(CancellationToken cancellationToken)
    {
        Timeout = timeouts.Command;
        return SendCommandAsync("RSET", cancellationToken);
    }

    /// <summary>Called by MailKit while the data is written: each block under the data-block timeout, then the
    /// final "." reply under the end-of-data timeout.</summary>
    public ITransferProgress DataProgress() => new StageProgress(this);

    protected override void OnSenderAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) => Timeout = timeouts.Rcpt;

    protected override void OnRecipientAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
    {
        RecipientReplies[mailbox] = response;
        Timeout = timeouts.DataStart;
    }

    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
    {
        RecipientReplies[mailbox] = response;
        Timeout = timeouts.DataStart;
    }

    /// <summary>MailKit then throws "No recipients were accepted" and sends RSET; the replies are already recorded.</summary>
    protected override void OnNoRecipientsAccepted(MimeMessage message) => NoRecipientsAccepted = true;

    /// <summary>
    /// MailKit's default calls <see cref="MimeMessage.Prepare"/>, which may change Content-Transfer-Encoding
    /// (8bit → quoted-printable without 8BITMIME, long lines → QP) and add MIME-Version. A relay must send the
    /// spooled bytes unchanged (DESIGN invariant 4); conversion, when needed, is decided by <see cref="OutboundContent"/>.
    /// </summary>
    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
    }

    /// <summary>RFC 3461 §4.1: NOTIFY as the sender gave it; none when the sender gave none (the peer's default).</summary>
    protected override DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message, MailboxAddress mailbox)
    {
        var notify = Find(mailbox)?.Notify;
        if (notify is null)
        {
            return null;
        }

        if (notify.Contains("NEVER", StringComparison.OrdinalIgnoreCase))
        {
            return DeliveryStatusNotification.Never;
        }

        DeliveryStatusNotification flags = 0;
        flags |= notify.Contains("SUCCESS", StringComparison.OrdinalIgnoreCase) ? DeliveryStatusNotification.Success : 0;
        flags |= notify.Contains("FAILURE", StringComparison.OrdinalIgnoreCase) ? DeliveryStatusNotification.Failure : 0;
        flags |= notify.Contains("DELAY", StringComparison.OrdinalIgnoreCase) ? DeliveryStatusNotification.Delay : 0;
        return flags == 0 ? null : flags;
    }

    protected override string? GetEnvelopeId(MimeMessage message) => Dsn?.EnvId;

    /// <summary>
    /// RFC 3030: BDAT to every peer that offers CHUNKING. The message goes as one "BDAT n LAST" chunk (MailKit knows
    /// n already: it measures the message for SIZE), with no dot-stuffing on either side. MailKit would use BDAT on its
    /// own only for BINARYMIME content, which the edge never accepts (it refuses BODY=BINARYMIME), so without this a
    /// relay would never send BDAT at all; 8BITMIME content is carried by BDAT just as well (RFC 3030 §3).
    /// </summary>
    protected override bool PreferSendAsBinaryData => (Capabilities & SmtpCapabilities.Chunking) != 0;

    private DsnRecipient? Find(MailboxAddress mailbox) =>
        Dsn?.Recipients.FirstOrDefault(r => string.Equals(OutboundContent.ToWireForm(r.Address), mailbox.Address, StringComparison.OrdinalIgnoreCase));

    private sealed class StageProgress(RelaySmtpClient client) : ITransferProgress
    {
        public void Report(long bytesTransferred, long totalSize) =>
            client.Timeout = bytesTransferred >= totalSize ? client.Timeouts.DataEnd : client.Timeouts.DataBlock;

        public void Report(long bytesTransferred) => client.Timeout = client.Timeouts.DataBlock;
    }
}

/// <summary>RFC 5321 §4.5.3.2 timeouts in milliseconds, as MailKit's <see cref="MailService.Timeout"/> takes them.</summary>
/// <param name="Command">Commands outside a stage of §4.5.3.2: RSET between transactions and QUIT.</param>
internal sealed record StageTimeouts(int Command, int Greeting, int Mail, int Rcpt, int DataStart, int DataBlock, int DataEnd)
{
    public static StageTimeouts From(OutboundOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        static int Ms(int seconds) => (int)Math.Min(int.MaxValue, seconds * 1000L);
        return new StageTimeouts(Ms(o.CommandTimeoutSeconds),
            Ms(o.GreetingTimeoutSeconds), Ms(o.MailTimeoutSeconds), Ms(o.RcptTimeoutSeconds),
            Ms(o.DataStartTimeoutSeconds), Ms(o.DataBlockTimeoutSeconds), Ms(o.DataEndTimeoutSeconds));
    }
}
