using MailKit.Net.Smtp;
using MimeKit;

namespace MailCluster.Outbound;

/// <summary>
/// MailKit's client with two changes: refused recipients are recorded instead of aborting the transaction
/// (so one 550 among many recipients does not fail the rest), and the message is never re-encoded.
/// </summary>
internal sealed class RecordingSmtpClient : SmtpClient
{
    /// <summary>The RCPT reply for each recipient, keyed by the instance passed to SendAsync.</summary>
    public Dictionary<MailboxAddress, SmtpResponse> RecipientReplies { get; } = new(ReferenceEqualityComparer.Instance);

    public bool NoRecipientsAccepted { get; private set; }

    protected override void OnRecipientAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
        RecipientReplies[mailbox] = response;

    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
        RecipientReplies[mailbox] = response;

    /// <summary>MailKit then throws "No recipients were accepted" and sends RSET; the replies are already recorded.</summary>
    protected override void OnNoRecipientsAccepted(MimeMessage message) => NoRecipientsAccepted = true;

    /// <summary>
    /// MailKit's default calls <see cref="MimeMessage.Prepare"/>, which may change Content-Transfer-Encoding
    /// (8bit → quoted-printable without 8BITMIME, long lines → QP) and add MIME-Version. A relay must send the
    /// spooled bytes unchanged (DESIGN invariant 4), as Postfix does by default; so this is a no-op.
    /// </summary>
    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
    }
}
