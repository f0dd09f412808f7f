using System.Runtime.InteropServices;
using System.Text;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MimeKit;

namespace MailCluster.Outbound;

/// <summary>
/// One message over an open <see cref="SmtpPeer"/>: syntax checks, content rules, then MAIL/RCPT (pipelined when the
/// peer offers PIPELINING, RFC 2920) and DATA, or BDAT to a peer that offers CHUNKING; repeated for the recipients the
/// peer deferred with 452 "too many recipients" while each round still delivers some (RFC 5321 §4.5.3.1.10: the client
/// must be prepared to send the rest in another transaction). Writes one outcome per recipient into <c>outcomes</c>:
/// a recipient refused at RCPT keeps its own reply, the accepted ones share the reply to the data. Network failures
/// and timeouts propagate (the connection is then broken).
/// <para><paramref name="resetFirst"/>: the session has carried a transaction before, so the first MAIL is preceded by
/// RSET (RFC 5321 §4.1.1.5), as is every further round. To a PIPELINING peer the RSET goes in the same write as MAIL
/// and RCPT (RFC 2920 §3.1 allows RSET anywhere in a group): one round trip per reused transaction fewer, and the RSET
/// still probes the session, since a refused RSET breaks the connection before DATA is sent. DATA stays a command of
/// its own, so a transaction whose recipients were all refused never sends it.</para>
/// </summary>
internal sealed class SmtpTransaction(SmtpPeer peer, StageTimeouts timeouts, DeliveryRequest request, RecipientOutcome?[] outcomes, bool resetFirst)
{
    /// <summary>The size of each write of the body, each under the data-block timeout (RFC 5321 §4.5.3.2.5).</summary>
    private const int BlockSize = 64 * 1024;

    /// <summary>RFC 5321 §4.1.1.5: RSET between reused transactions; a refusal means the session cannot be trusted.</summary>
    private async Task ResetAsync(CancellationToken cancellationToken) =>
        CheckReset(await peer.CommandAsync("RSET", timeouts.Command, cancellationToken).ConfigureAwait(false));

    private static void CheckReset(PeerReply reply)
    {
        if (reply.Code != 250)
        {
            throw new IOException($"RSET refused: {reply.Code} {reply.Text}");
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var wire = new string[outcomes.Length];
        var pending = new List<int>();
        for (int i = 0; i < outcomes.Length; i++)
        {
            if (WireAddress(request.Recipients[i]) is { } address)
            {
                wire[i] = address;
                pending.Add(i);
            }
            else
            {
                outcomes[i] = new RecipientOutcome(request.Recipients[i], OutcomeKind.Permanent, 0, "5.1.3", "bad recipient address syntax");
            }
        }

        if ((request.Sender.Length == 0 ? "" : WireAddress(request.Sender)) is not { } sender)
        {
            FailAll(pending, OutcomeKind.Permanent, 0, "5.1.7", $"bad sender address syntax: <{request.Sender}>");
            return;
        }

        var body = OutboundContent.NormalizeLineEndings(request.Body);
        var decision = OutboundContent.Decide(body.Span, request.Sender, request.Recipients, peer.Offers("SMTPUTF8"), peer.Offers("8BITMIME"), canConvert: true);
        if (decision.Action == ContentAction.Fail)
        {
            FailAll(pending, OutcomeKind.Permanent, decision.Code, decision.EnhancedCode, decision.Text);
            return;
        }

        if (decision.Action == ContentAction.ConvertTo7Bit)
        {
            if (SevenBit.Convert(body, cancellationToken) is not { } converted)
            {
                FailAll(pending, OutcomeKind.Permanent, 554, "5.6.3", "8-bit message, the next hop does not offer 8BITMIME, and conversion failed");
                return;
            }

            body = converted;
        }

        bool utf8 = decision.Action == ContentAction.SendUtf8;
        bool dsn = peer.Offers("DSN");
        string mail = SmtpEnvelopeCommands.MailFrom(sender, new MailParameters(utf8, peer.Offers("SIZE") ? body.Length : null,
            OutboundContent.Has8Bit(body.Span) && peer.Offers("8BITMIME"), request.Dsn, dsn));
        var rcpts = new string[outcomes.Length];
        foreach (int i in pending)
        {
            rcpts[i] = SmtpEnvelopeCommands.RcptTo(wire[i], DsnOf(request.Recipients[i]), dsn, utf8);
        }

        for (int round = 0; pending.Count > 0; round++)
        {
            var deferred = await TransactionAsync(mail, rcpts, body, pending, reset: round > 0 || resetFirst, cancellationToken).ConfigureAwait(false);
            if (deferred.Count == pending.Count)
            {
                break; // No progress: the 452s stand as transient outcomes for a later attempt.
            }

            pending = deferred;
        }
    }

    /// <param name="reset">RSET first (a reused session, or a further round).</param>
    /// <returns>The recipients that got 452 at RCPT while others in the same transaction were delivered.</returns>
    private async Task<List<int>> TransactionAsync(string mail, string[] rcpts, ReadOnlyMemory<byte> body, List<int> recipients, bool reset, CancellationToken ct)
    {
        var replies = new PeerReply?[outcomes.Length];
        PeerReply mailReply;
        if (peer.Offers("PIPELINING"))
        {
            // RFC 2920 §3.1: RSET, MAIL and every RCPT in one write; the replies come in order, RCPT replies even after a
            // refused MAIL. A refused RSET throws before any other reply is read: the connection is dropped unread.
            await peer.WriteLinesAsync(reset ? ["RSET", mail, .. recipients.Select(i => rcpts[i])] : [mail, .. recipients.Select(i => rcpts[i])],
                timeouts.Mail, ct).ConfigureAwait(false);
            if (reset)
            {
                CheckReset(await peer.ReadAsync(timeouts.Command, ct).ConfigureAwait(false));
            }

            mailReply = await peer.ReadAsync(timeouts.Mail, ct).ConfigureAwait(false);
            foreach (int i in recipients)
            {
                replies[i] = await peer.ReadAsync(timeouts.Rcpt, ct).ConfigureAwait(false);
            }
        }
        else
        {
            if (reset)
            {
                await ResetAsync(ct).ConfigureAwait(false);
            }

            mailReply = await peer.CommandAsync(mail, timeouts.Mail, ct).ConfigureAwait(false);
            foreach (int i in Accepted(mailReply) ? recipients : [])
            {
                replies[i] = await peer.CommandAsync(rcpts[i], timeouts.Rcpt, ct).ConfigureAwait(false);
            }
        }

        if (!Accepted(mailReply))
        {
            // RFC 5321 §3.3: a refused MAIL ends the transaction for every recipient (530 included: a relay to an MX
            // cannot authenticate).
            Classify(recipients, mailReply);
            return [];
        }

        var accepted = recipients.Where(i => Accepted(replies[i]!)).ToList();
        foreach (int i in recipients.Except(accepted))
        {
            outcomes[i] = SmtpReplyClassifier.Classify(request.Recipients[i], replies[i]!.Code, TextOf(replies[i]!));
        }

        if (accepted.Count == 0)
        {
            await ResetAsync(ct).ConfigureAwait(false); // MAIL opened a transaction that carries nothing
            return [];
        }

        var dataReply = await SendBodyAsync(body, ct).ConfigureAwait(false);
        Classify(accepted, dataReply);
        return Accepted(dataReply) ? [.. recipients.Where(i => replies[i]!.Code == 452)] : [];
    }

    /// <summary>RFC 3030: one "BDAT n LAST" chunk, the bytes as they are; else DATA with dot-stuffing (RFC 5321 §4.5.2).
    /// Returns the reply that decides the accepted recipients (354 refused, or the final reply).</summary>
    private async Task<PeerReply> SendBodyAsync(ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        if (peer.Offers("CHUNKING"))
        {
            await peer.WriteAsync(Encoding.ASCII.GetBytes($"BDAT {body.Length} LAST\r\n"), timeouts.DataStart, ct).ConfigureAwait(false);
            await WriteBlocksAsync(body, ct).ConfigureAwait(false);
            return await peer.ReadAsync(timeouts.DataEnd, ct).ConfigureAwait(false);
        }

        var go = await peer.CommandAsync("DATA", timeouts.DataStart, ct).ConfigureAwait(false);
        if (go.Code != 354)
        {
            return go;
        }

        if (body.Length < BlockSize || DotStuffing.IsNeeded(body.Span))
        {
            // A small body goes out with its terminator in one write (copying it is cheap; a write of its own for the
            // terminator would cost a segment per message on the relay's hot path).
            await WriteBlocksAsync(DotStuffing.Stuff(body.Span), ct).ConfigureAwait(false);
        }
        else
        {
            // A large body without a line-leading dot is written as it is: no stuffed copy of megabytes.
            await WriteBlocksAsync(body, ct).ConfigureAwait(false);
            await peer.WriteAsync(DotStuffing.Terminator(body.Span).ToArray(), timeouts.DataBlock, ct).ConfigureAwait(false);
        }

        return await peer.ReadAsync(timeouts.DataEnd, ct).ConfigureAwait(false);
    }

    private async Task WriteBlocksAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        for (int offset = 0; offset < bytes.Length; offset += BlockSize)
        {
            await peer.WriteAsync(bytes.Slice(offset, Math.Min(BlockSize, bytes.Length - offset)), timeouts.DataBlock, ct).ConfigureAwait(false);
        }
    }

    private static bool Accepted(PeerReply reply) => reply.Code is >= 200 and < 300;

    /// <summary>A multi-line reply's lines joined by spaces (a DSN's Diagnostic-Code is one header field).</summary>
    private static string TextOf(PeerReply reply) => string.Join(' ', reply.Lines);

    private void Classify(IEnumerable<int> recipients, PeerReply reply)
    {
        foreach (int i in recipients)
        {
            outcomes[i] = SmtpReplyClassifier.Classify(request.Recipients[i], reply.Code, TextOf(reply));
        }
    }

    private void FailAll(List<int> recipients, OutcomeKind kind, int code, string enhanced, string text)
    {
        foreach (int i in recipients)
        {
            outcomes[i] = new RecipientOutcome(request.Recipients[i], kind, code, enhanced, text);
        }
    }

    private DsnRecipient? DsnOf(string recipient) =>
        request.Dsn?.Recipients.FirstOrDefault(r => string.Equals(r.Address, recipient, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The address as it goes between the angle brackets (<see cref="OutboundContent.ToWireForm"/>: a Unicode domain with
    /// an ASCII local part as its A-label), or null when it is not a mailbox (MimeKit's addr-spec parser decides; no
    /// control character, space or angle bracket ever reaches a command line).
    /// </summary>
    internal static string? WireAddress(string address)
    {
        if (string.IsNullOrEmpty(address) || address.Any(c => c <= ' ' || c is '<' or '>' or '\u007f'))
        {
            return null;
        }

        try
        {
            _ = new MailboxAddress("", address);
            return OutboundContent.ToWireForm(address);
        }
        catch (ParseException)
        {
            return null;
        }
    }
}

/// <summary>RFC 6152 §3 downgrade for a peer without 8BITMIME: the 8-bit MIME parts re-encoded (quoted-printable or
/// base64) by MimeKit.</summary>
internal static class SevenBit
{
    /// <summary>DESIGN invariant 4 (bytes in, bytes out) for everything MimeKit does not re-encode: CRLF, no hidden
    /// headers, raw header values.</summary>
    private static readonly FormatOptions ExactFormat = CreateFormat();

    /// <returns>The converted message, or null when 8-bit octets remain (e.g. in a header, which no transfer encoding
    /// can fix) or the message cannot be parsed as MIME.</returns>
    public static byte[]? Convert(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var stream = MemoryMarshal.TryGetArray(body, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(body.ToArray(), writable: false);
        MimeMessage message;
        try
        {
            using (stream)
            {
                message = MimeMessage.Load(stream, cancellationToken);
            }
        }
        catch (FormatException)
        {
            return null;
        }

        message.Prepare(EncodingConstraint.SevenBit, 998);
        using var output = new MemoryStream();
        message.WriteTo(ExactFormat, output, cancellationToken);
        var converted = output.ToArray();
        return OutboundContent.Has8Bit(converted) ? null : converted;
    }

    private static FormatOptions CreateFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        format.HiddenHeaders.Clear();
        format.International = false;
        format.EnsureNewLine = false;
        return format;
    }
}
