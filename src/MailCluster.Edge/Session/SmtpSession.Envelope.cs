using MailCluster.Edge.Auth;
using MailCluster.Edge.Policy;
using MailCluster.Queue;
using MailCluster.Queue.Protocol;
using MailCluster.Smtp;

namespace MailCluster.Edge.Session;

/// <summary>MAIL, RCPT and BDAT: the envelope and the listener's policy.</summary>
public sealed partial class SmtpSession
{
    private bool RequiresAuth => _connection.Listener.Role is ListenerRole.Submission or ListenerRole.Submissions;

    private async ValueTask<SessionReply> OnMailAsync(MailCommand mail)
    {
        if (_messages >= _services.Smtp.MaxMessagesPerConnection)
        {
            return new SessionReply(new SmtpReply(421, "4.7.0", "Too many messages in this connection, reconnect"), SessionAction.Close);
        }

        // RFC 6409 §4.3 and RFC 8314: submission wants TLS, then AUTH, before any mail.
        if (RequiresAuth && !IsTls)
        {
            return new SessionReply(SmtpReplies.StartTlsFirst);
        }

        if (RequiresAuth && _user is null)
        {
            return new SessionReply(SmtpReplies.AuthRequired);
        }

        if (mail.Size is { } size && size > _services.Smtp.MaxMessageSize)
        {
            return new SessionReply(SmtpReplies.MessageTooLarge);
        }

        if (mail.Body is { } body && body is not ("7BIT" or "8BITMIME"))
        {
            return new SessionReply(SmtpReplies.SyntaxError($"BODY={body} not supported"));
        }

        if (mail.ReversePath.IsUtf8 && !mail.SmtpUtf8)
        {
            return new SessionReply(SmtpReplies.Utf8AddressNeedsSmtpUtf8);
        }

        if (_user is not null && !SenderAuthorization.IsAllowed(_user, mail.ReversePath.Address))
        {
            return new SessionReply(new SmtpReply(553, "5.7.1", $"<{mail.ReversePath.Address}>: Sender address not owned by user {_user.Name}"));
        }

        // A key's quotas are counted per transaction here, before the client sends any text: one message per MAIL
        // FROM that passes, whether or not the transaction ends in a queued message (the conservative count).
        if (_user?.ApiKeyId is { } keyId && _services.Quotas is { } quotas)
        {
            var decision = await quotas.TryConsumeAsync(keyId, 1, _services.Shutdown).ConfigureAwait(false);
            if (!decision.Allowed)
            {
                return new SessionReply(new SmtpReply(451, "4.7.1", $"Key {keyId}: {decision.Reason}; try again in {decision.RetryAfterSeconds} s"));
            }
        }

        _mail = mail;
        return new SessionReply(SmtpReplies.SenderOk);
    }

    private SessionReply OnRcpt(RcptCommand rcpt)
    {
        var path = rcpt.ForwardPath;
        if (path.IsNull || DomainKey.TryNormalize(path.Domain) is not { } domain)
        {
            return new SessionReply(SmtpReplies.BadAddress);
        }

        if (path.IsUtf8 && _mail?.SmtpUtf8 != true)
        {
            return new SessionReply(SmtpReplies.Utf8AddressNeedsSmtpUtf8);
        }

        if (_recipients.Count >= _services.Smtp.MaxRecipients)
        {
            return new SessionReply(SmtpReplies.TooManyRecipients);
        }

        if (_services.Policy.CheckRecipient(domain, _connection.Remote?.Address, authenticated: _user is not null) == RecipientVerdict.RelayDenied)
        {
            return new SessionReply(new SmtpReply(554, "5.7.1", $"<{path.Address}>: Relay access denied"));
        }

        if (Suppressed(path.Address) is { } suppressed)
        {
            return suppressed;
        }

        _recipients.Add(path.Address);
        var notify = rcpt.Parameters.GetValueOrDefault("NOTIFY");
        var orcpt = rcpt.Parameters.GetValueOrDefault("ORCPT");
        if (notify is not null || orcpt is not null)
        {
            _dsnRecipients.Add(new DsnRecipient(path.Address, notify, orcpt is null ? null : Xtext.Decode(orcpt), orcpt));
        }

        return new SessionReply(SmtpReplies.RecipientOk);
    }

    /// <summary>
    /// Issue 16: an authenticated submission to an address on the suppression list (global, or the user's own) is refused
    /// with 550 5.7.1 and the entry's reason, and recorded as a Suppressed event. Sessions without AUTH (other servers
    /// delivering to the MX listener) are never checked. The check is an in-memory lookup (<see cref="Queue.Suppression.SuppressionList"/>);
    /// the record is written without holding the reply.
    /// </summary>
    private SessionReply? Suppressed(string recipient)
    {
        if (_user is not { } user || _services.Suppression?.Find(recipient, user.Name) is not { } entry)
        {
            return null;
        }

        if (_services.SuppressedRecipients is { } recorder)
        {
            var refused = new Queue.Contracts.SuppressedRecipient(
                _mail?.ReversePath.Address ?? "", recipient, entry.Reason, user.Name, _services.Clock.GetUtcNow(), EmptyMeta);
            _ = Recorded(recorder.RecordAsync(refused, _services.Shutdown));
        }

        return new SessionReply(new SmtpReply(550, "5.7.1", $"<{recipient}>: Recipient address suppressed: {entry.Reason}"));
    }

    private static readonly Dictionary<string, string> EmptyMeta = [];

    /// <summary>Awaits a record in the background; a failure to record never changes the reply already decided.</summary>
    private static async Task Recorded(ValueTask pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The implementation logs its own failures (delivery events retry); nothing more to do in a session.
        }
    }

    /// <summary>RFC 3030: the chunk is read by the connection; the size is checked here first (sequencing, "Need RCPT
    /// command" included, by <see cref="SmtpStateTable"/>: RcptTo holds exactly when a recipient was accepted).</summary>
    private SessionReply OnBdat(BdatCommand bdat) => bdat.Size > _services.Smtp.MaxMessageSize
        ? new SessionReply(SmtpReplies.MessageTooLarge)
        : new SessionReply(SmtpReplies.Ok, SessionAction.ReadChunk);

    private DsnEnvelope? Dsn()
    {
        var ret = _mail?.Parameters.GetValueOrDefault("RET");
        var envId = _mail?.Parameters.GetValueOrDefault("ENVID");
        return ret is null && envId is null && _dsnRecipients.Count == 0
            ? null
            : new DsnEnvelope(ret, envId is null ? null : Xtext.Decode(envId), _dsnRecipients.ToList()) { EnvIdXtext = envId };
    }
}
