using System.Text;
using MailCluster.Queue;
using MailCluster.Queue.Acceptance;
using MailCluster.Smtp;
using MimeKit.Utils;

namespace MailCluster.Edge.Session;

/// <summary>The end of DATA/BDAT: content checks, trace header, submission fix-ups, durable acceptance.</summary>
public sealed partial class SmtpSession
{
    /// <summary>The size the client declared with MAIL SIZE= (RFC 1870), if any: a hint for the message buffer.</summary>
    internal long? DeclaredSize => _mail?.Size;

    /// <summary>The end of the message text; run by <see cref="SmtpSessionActor"/> (the durable hand-off).</summary>
    internal async Task<SessionReply> OnDataAsync(SessionData data)
    {
        SmtpReply reply;
        if (Reject(data) is { } rejection)
        {
            data.Buffer?.Release();
            reply = rejection;
        }
        else
        {
            reply = await AcceptAsync(data).ConfigureAwait(false);
        }

        LogRejected("DATA", reply);
        ResetTransaction();
        _state = SmtpStateTable.AfterMessage(_state);
        return new SessionReply(reply);
    }

    private SmtpReply? Reject(SessionData data)
    {
        if (_recipients.Count == 0)
        {
            // The table admits DATA and BDAT only in RcptTo, which a successful RCPT enters.
            throw new InvalidOperationException("Message text without a recipient: the connection read it outside a transaction.");
        }

        if (data.TooLarge)
        {
            return SmtpReplies.MessageTooLarge;
        }

        if (data.HasBareLineEnding)
        {
            return SmtpReplies.BadContent("Message contains a bare <CR> or <LF>");
        }

        if (data.HasNul)
        {
            return SmtpReplies.BadContent("Message contains NUL characters");
        }

        if (data.HasLongLine)
        {
            return SmtpReplies.MessageLineTooLong;
        }

        return data.ReceivedHeaders > _services.Smtp.MaxReceivedHeaders ? SmtpReplies.RoutingLoop : null;
    }

    private async Task<SmtpReply> AcceptAsync(SessionData data)
    {
        var queueId = MessageIds.New();
        var now = _services.Clock.GetUtcNow();
        var header = ReceivedHeader.Build(new ReceivedHeader.Trace(
            _heloName,
            _connection.Remote?.Address.ToString(),
            _services.Hostname,
            Protocol(),
            queueId,
            _recipients,
            now,
            IsTls ? $"{_tlsProtocol} cipher {_tlsCipher}" : null,
            _services.Smtp.ShowAuthenticatedUser ? _user?.Name : null));
        var added = RequiresAuth ? SubmissionHeaders(data.Text.Span, queueId, now) : [];
        added = Sign(added, data.Text);
        var body = data.Buffer is { } buffer ? buffer.WithPrefix(header, added) : Concat(header, added, data.Text.Span);

        var sender = _mail?.ReversePath.Address ?? "";
        var messageId = MessageIdOf(data, queueId);
        var result = await _services.Acceptor.AcceptAsync(queueId, sender, _recipients.ToList(), Dsn(), body, EventDetails(data, messageId), CancellationToken.None).ConfigureAwait(false);
        if (result.Outcome != AcceptOutcome.Accepted)
        {
            // Not released: after a failure a spool write may still be reading the body (see MessageBuffer).
            return SmtpReplies.LocalError;
        }

        // Accepted: the body is durable and nothing reads this copy any more.
        data.Buffer?.Release();

        _messages++;
        LogAccepted(result.MessageId, data, messageId);
        return SmtpReplies.Queued(result.MessageId);
    }

    /// <summary>The delivery events' record of this acceptance (issue 16): meta from <c>X-MC-Meta-*</c> fields only for
    /// authenticated submissions (a relay client must not label another sender's events).</summary>
    private Queue.Events.AcceptanceDetails EventDetails(SessionData data, string? messageId) => new(
        messageId,
        _user?.Name,
        _user is null ? null : Queue.Events.MetaHeaders.Read(data.Text.Span),
        _heloName,
        _connection.Remote?.Address.ToString(),
        IsTls ? _tlsProtocol : null,
        IsTls ? _tlsCipher : null);

    /// <summary>The message's Message-ID, read once for the delivery events and the mail log: a submission without one
    /// got ours (<see cref="SubmissionHeaders"/>); a relayed message without one has none (null).</summary>
    private string? MessageIdOf(SessionData data, string queueId) =>
        HeaderScan.MessageId(data.Text.Span) ?? (RequiresAuth ? $"<{queueId}@{_services.Hostname}>" : null);

    /// <summary>
    /// DKIM: authenticated sessions only (relayed mail from the MX listener is never signed), for From addresses the user
    /// may send as. The signature fields go in front of <paramref name="added"/> and cover it and the text, so what is
    /// spooled is signed once for all retries.
    /// </summary>
    private byte[] Sign(byte[] added, ReadOnlyMemory<byte> text)
    {
        if (_user is not { } user || _services.Dkim is not { } dkim)
        {
            return added;
        }

        var signatures = dkim.Sign(added, text, from => Auth.SenderAuthorization.IsAllowed(user, from));
        return signatures.Length == 0 ? added : [.. signatures, .. added];
    }

    private static byte[] Concat(ReadOnlySpan<byte> header, ReadOnlySpan<byte> added, ReadOnlySpan<byte> text)
    {
        var body = new byte[header.Length + added.Length + text.Length];
        header.CopyTo(body);
        added.CopyTo(body.AsSpan(header.Length));
        text.CopyTo(body.AsSpan(header.Length + added.Length));
        return body;
    }

    /// <summary>RFC 3848 protocol names: ESMTP, plus S for TLS and A for AUTH; UTF8 variants per RFC 6531.</summary>
    private string Protocol()
    {
        var name = !_extended ? "SMTP" : _mail?.SmtpUtf8 == true ? "UTF8SMTP" : "ESMTP";
        return name + (IsTls ? "S" : "") + (_user is not null ? "A" : "");
    }

    /// <summary>
    /// RFC 6409 §8.1-8.2: a submission server may add a missing Message-ID and Date. They are prepended as
    /// whole header fields, formatted by MimeKit; nothing else in the message is touched or re-encoded.
    /// </summary>
    private byte[] SubmissionHeaders(ReadOnlySpan<byte> text, string queueId, DateTimeOffset now)
    {
        var builder = new StringBuilder();
        if (!HeaderScan.HasField(text, "Message-ID"))
        {
            builder.Append("Message-ID: <").Append(queueId).Append('@').Append(_services.Hostname).Append(">\r\n");
        }

        if (!HeaderScan.HasField(text, "Date"))
        {
            builder.Append("Date: ").Append(DateUtils.FormatDate(now)).Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(builder.ToString());
    }
}
