using System.Runtime.InteropServices;
using MailCluster.Queue.Delivery;
using MailKit.Net.Smtp;
using MimeKit;

namespace MailCluster.Outbound;

/// <summary>
/// One message over an open <see cref="RelaySmtpClient"/>: syntax checks, content rules, then MAIL/RCPT/DATA
/// (pipelined by MailKit when offered), repeated for the recipients the peer deferred with 452 "too many
/// recipients" while each round still delivers some (RFC 5321 §4.5.3.1.10: the client must be prepared to
/// send the rest in another transaction). Writes one outcome per recipient into <c>outcomes</c>.
/// Network failures propagate (the connection is then broken).
/// </summary>
internal sealed class SmtpTransaction(RelaySmtpClient client, DeliveryRequest request, RecipientOutcome?[] outcomes)
{
    /// <summary>DESIGN invariant 4 (bytes in, bytes out): CRLF, no hidden headers, raw header values.</summary>
    private static readonly FormatOptions ExactFormat = CreateFormat(international: false);

    /// <summary>RFC 6531: with SMTPUTF8 the UTF-8 header values go out raw, and MailKit adds the MAIL parameter.</summary>
    private static readonly FormatOptions Utf8Format = CreateFormat(international: true);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var pending = new List<(int Index, MailboxAddress Mailbox)>();
        for (int i = 0; i < outcomes.Length; i++)
        {
            if (TryMailbox(request.Recipients[i], out var mailbox))
            {
                pending.Add((i, mailbox));
            }
            else
            {
                outcomes[i] = new RecipientOutcome(request.Recipients[i], OutcomeKind.Permanent, 0, "5.1.3", "bad recipient address syntax");
            }
        }

        if (!TryMailbox(request.Sender, out var sender))
        {
            FailAll(pending, OutcomeKind.Permanent, 0, "5.1.7", $"bad sender address syntax: <{request.Sender}>");
            return;
        }

        var body = OutboundContent.NormalizeLineEndings(request.Body);
        var caps = client.Capabilities;
        var decision = OutboundContent.Decide(body.Span, request.Sender, request.Recipients,
            (caps & SmtpCapabilities.UTF8) != 0, (caps & SmtpCapabilities.EightBitMime) != 0, canConvert: true);
        if (decision.Action == ContentAction.Fail)
        {
            FailAll(pending, OutcomeKind.Permanent, decision.Code, decision.EnhancedCode, decision.Text);
            return;
        }

        MimeMessage message;
        try
        {
            message = Load(body, cancellationToken);
        }
        catch (FormatException e)
        {
            FailAll(pending, OutcomeKind.Permanent, 0, "5.6.0", $"message cannot be parsed for relay: {e.Message}");
            return;
        }

        if (decision.Action == ContentAction.ConvertTo7Bit && !ConvertTo7Bit(message))
        {
            FailAll(pending, OutcomeKind.Permanent, 554, "5.6.3", "8-bit message, the next hop does not offer 8BITMIME, and conversion failed");
            return;
        }

        var format = decision.Action == ContentAction.SendUtf8 ? Utf8Format : ExactFormat;
        client.Dsn = request.Dsn;
        for (int round = 0; pending.Count > 0; round++)
        {
            if (round > 0)
            {
                await client.ResetAsync(cancellationToken).ConfigureAwait(false);
            }

            var deferred = await TransactionAsync(format, message, sender, pending, cancellationToken).ConfigureAwait(false);
            if (deferred.Count == pending.Count)
            {
                break; // No progress: the 452s stand as transient outcomes for a later attempt.
            }

            pending = deferred;
        }
    }

    /// <returns>The recipients that got 452 at RCPT while others in the same transaction were accepted.</returns>
    private async Task<List<(int Index, MailboxAddress Mailbox)>> TransactionAsync(FormatOptions format, MimeMessage message,
        MailboxAddress sender, List<(int Index, MailboxAddress Mailbox)> recipients, CancellationToken cancellationToken)
    {
        client.BeginTransaction();
        (int Code, string Text)? dataReply;
        try
        {
            string reply = await client.SendAsync(format, message, sender, recipients.Select(r => r.Mailbox), cancellationToken, client.DataProgress())
                .ConfigureAwait(false);
            dataReply = (250, reply);
        }
        catch (SmtpCommandException e) when (e.ErrorCode == SmtpErrorCode.SenderNotAccepted)
        {
            // RFC 5321 §3.3: a refused MAIL ends the transaction for every recipient.
            foreach (var (index, _) in recipients)
            {
                outcomes[index] = SmtpReplyClassifier.Classify(request.Recipients[index], (int)e.StatusCode, e.Message);
            }

            return [];
        }
        catch (SmtpCommandException e)
        {
            // DATA refused, end of data refused, or no recipient accepted: recipients refused at RCPT keep their own
            // replies, the accepted ones share the DATA reply.
            dataReply = client.NoRecipientsAccepted ? null : ((int)e.StatusCode, e.Message);
        }
        catch (MailKit.ServiceNotAuthenticatedException e)
        {
            // 530: the peer wants authentication, which an MTA relaying to an MX cannot give.
            foreach (var (index, _) in recipients)
            {
                outcomes[index] = SmtpReplyClassifier.Classify(request.Recipients[index], 530, e.Message);
            }

            return [];
        }

        var tooMany = new List<(int, MailboxAddress)>();
        bool anyAccepted = false;
        foreach (var (index, mailbox) in recipients)
        {
            bool hasReply = client.RecipientReplies.TryGetValue(mailbox, out var rcpt);
            int rcptCode = hasReply ? (int)rcpt!.StatusCode : 0;
            anyAccepted |= rcptCode is >= 200 and < 300;
            if (rcptCode == 452)
            {
                tooMany.Add((index, mailbox));
            }

            outcomes[index] = hasReply && rcptCode is < 200 or >= 300
                ? SmtpReplyClassifier.Classify(request.Recipients[index], rcptCode, rcpt!.Response)
                : dataReply is { } data
                    ? SmtpReplyClassifier.Classify(request.Recipients[index], data.Code, data.Text)
                    : SmtpReplyClassifier.Classify(request.Recipients[index], 554, "5.5.1 no recipient was accepted");
        }

        return anyAccepted && dataReply is { Code: >= 200 and < 300 } ? tooMany : [];
    }

    private void FailAll(List<(int Index, MailboxAddress Mailbox)> recipients, OutcomeKind kind, int code, string enhanced, string text)
    {
        foreach (var (index, _) in recipients)
        {
            outcomes[index] = new RecipientOutcome(request.Recipients[index], kind, code, enhanced, text);
        }
    }

    /// <summary>RFC 6152 §3 downgrade: 8-bit MIME parts re-encoded (quoted-printable or base64) by MimeKit.
    /// False when 8-bit octets remain (e.g. in a header), which no transfer encoding can fix.</summary>
    private static bool ConvertTo7Bit(MimeMessage message)
    {
        message.Prepare(EncodingConstraint.SevenBit, 998);
        using var check = new MemoryStream();
        message.WriteTo(ExactFormat, check);
        return !OutboundContent.Has8Bit(check.GetBuffer().AsSpan(0, (int)check.Length));
    }

    /// <summary>An empty sender is the null reverse-path: MailKit writes <c>MAIL FROM:&lt;&gt;</c> for an empty address.
    /// A Unicode domain with an ASCII local part goes out as its A-label (<see cref="OutboundContent.ToWireForm"/>), so
    /// MailKit neither asks for SMTPUTF8 nor sends the U-label to a peer that offers it.</summary>
    internal static bool TryMailbox(string address, out MailboxAddress mailbox)
    {
        try
        {
            mailbox = new MailboxAddress("", OutboundContent.ToWireForm(address ?? ""));
            return true;
        }
        catch (ParseException)
        {
            mailbox = null!;
            return false;
        }
    }

    private static MimeMessage Load(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var stream = MemoryMarshal.TryGetArray(body, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(body.ToArray(), writable: false);
        using (stream)
        {
            return MimeMessage.Load(stream, cancellationToken);
        }
    }

    private static FormatOptions CreateFormat(bool international)
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        format.HiddenHeaders.Clear();
        format.International = international;
        format.EnsureNewLine = false;
        return format;
    }
}
