using Akka.Actor;
using MailCluster.Edge.Policy;
using MailCluster.Queue;
using MailCluster.Queue.Acceptance;
using MailCluster.Smtp;

namespace MailCluster.Edge.Session;

/// <summary>
/// One SMTP session (one TCP connection). The connection handler owns the socket and the byte-level
/// reading; this actor owns the conversation: sequencing (from <see cref="SmtpStateTable"/>), the envelope,
/// relay policy and the hand-off of a finished message to <see cref="MessageAcceptor"/>. Every message
/// is answered with exactly one <see cref="SessionReply"/>.
/// </summary>
public sealed class SmtpSessionActor : ReceiveActor
{
    private readonly ConnectionInfo _connection;
    private readonly EdgeServices _services;
    private readonly List<string> _recipients = [];
    private SessionState _state = SessionState.Connected;
    private string _heloName = "unknown";
    private bool _extended;
    private SmtpPath? _sender;

    public SmtpSessionActor(ConnectionInfo connection, EdgeServices services)
    {
        _connection = connection;
        _services = services;
        Receive<SessionStart>(_ => Sender.Tell(new SessionReply(new SmtpReply(220, "", $"{services.Hostname} ESMTP MailCluster"))));
        Receive<SessionCommand>(c => Sender.Tell(Handle(c.Command)));
        ReceiveAsync<SessionData>(OnDataAsync);
    }

    public static Props Props(ConnectionInfo connection, EdgeServices services) =>
        Akka.Actor.Props.Create(() => new SmtpSessionActor(connection, services));

    private SessionReply Handle(SmtpCommand command)
    {
        if (SmtpStateTable.Check(_state, command.Verb) is { } sequenceError)
        {
            return new SessionReply(sequenceError);
        }

        var reply = command switch
        {
            HeloCommand h => OnHelo(h),
            MailCommand m => OnMail(m),
            RcptCommand r => OnRcpt(r),
            SimpleCommand { Verb: SmtpVerb.Data } => new SessionReply(new SmtpReply(354, "", "End data with <CR><LF>.<CR><LF>"), SessionAction.ReadData),
            SimpleCommand { Verb: SmtpVerb.Rset } => Reset(new SmtpReply(250, "2.0.0", "Flushed")),
            SimpleCommand { Verb: SmtpVerb.Noop } => new SessionReply(new SmtpReply(250, "2.0.0", "OK")),
            SimpleCommand { Verb: SmtpVerb.Quit } => new SessionReply(new SmtpReply(221, "2.0.0", $"{_services.Hostname} closing connection"), SessionAction.Close),

            // RFC 5321 §3.5.3: 252 neither confirms nor denies that a mailbox exists (no harvesting).
            SimpleCommand { Verb: SmtpVerb.Vrfy } => new SessionReply(new SmtpReply(252, "2.5.0", "Cannot VRFY user; send mail and delivery will be attempted")),
            SimpleCommand { Verb: SmtpVerb.Expn } => new SessionReply(new SmtpReply(502, "5.5.1", "EXPN not supported")),
            SimpleCommand { Verb: SmtpVerb.Help } => new SessionReply(new SmtpReply(214, "2.0.0", "See RFC 5321")),
            _ => new SessionReply(new SmtpReply(502, "5.5.1", $"{command.Verb.ToString().ToUpperInvariant()} not implemented")),
        };

        if (reply.Reply.Code < 400)
        {
            _state = SmtpStateTable.Next(_state, command);
        }

        return reply;
    }

    private SessionReply OnHelo(HeloCommand helo)
    {
        ResetTransaction();
        _heloName = helo.Domain;
        _extended = helo.Extended;
        if (!helo.Extended)
        {
            return new SessionReply(new SmtpReply(250, "", _services.Hostname));
        }

        var client = _connection.Remote?.Address.ToString() ?? "unknown";
        var lines = string.Join('\n',
            $"{_services.Hostname} greets {helo.Domain} [{client}]",
            "PIPELINING",
            $"SIZE {_services.Smtp.MaxMessageSize}",
            "8BITMIME",
            "ENHANCEDSTATUSCODES");
        return new SessionReply(new SmtpReply(250, "", lines));
    }

    private SessionReply OnMail(MailCommand mail)
    {
        foreach (var (key, value) in mail.Parameters)
        {
            switch (key)
            {
                case "SIZE" when !long.TryParse(value, out _):
                    return new SessionReply(new SmtpReply(501, "5.5.4", "Bad SIZE parameter"));
                case "SIZE" when long.Parse(value!, System.Globalization.CultureInfo.InvariantCulture) > _services.Smtp.MaxMessageSize:
                    return new SessionReply(new SmtpReply(552, "5.3.4", "Message size exceeds fixed maximum message size"));
                case "SIZE":
                    break;
                case "BODY" when string.Equals(value, "7BIT", StringComparison.OrdinalIgnoreCase) || string.Equals(value, "8BITMIME", StringComparison.OrdinalIgnoreCase):
                    break;
                default:
                    return new SessionReply(new SmtpReply(555, "5.5.4", $"Unsupported parameter {key}"));
            }
        }

        if (mail.ReversePath.IsUtf8)
        {
            return new SessionReply(new SmtpReply(553, "5.6.7", "UTF-8 addresses are not supported"));
        }

        _sender = mail.ReversePath;
        return new SessionReply(new SmtpReply(250, "2.1.0", "Sender OK"));
    }

    private SessionReply OnRcpt(RcptCommand rcpt)
    {
        if (rcpt.Parameters.Count > 0)
        {
            return new SessionReply(new SmtpReply(555, "5.5.4", $"Unsupported parameter {rcpt.Parameters.Keys.First()}"));
        }

        if (rcpt.ForwardPath.IsNull || rcpt.ForwardPath.IsUtf8 || DomainKey.TryNormalize(rcpt.ForwardPath.Domain) is not { } domain)
        {
            return new SessionReply(new SmtpReply(553, "5.1.3", "Bad recipient address syntax"));
        }

        if (_recipients.Count >= _services.Smtp.MaxRecipients)
        {
            return new SessionReply(new SmtpReply(452, "4.5.3", "Too many recipients"));
        }

        if (_services.Policy.CheckRecipient(domain, _connection.Remote?.Address, authenticated: false) == RecipientVerdict.RelayDenied)
        {
            return new SessionReply(new SmtpReply(554, "5.7.1", $"<{rcpt.ForwardPath.Address}>: Relay access denied"));
        }

        _recipients.Add(rcpt.ForwardPath.Address);
        return new SessionReply(new SmtpReply(250, "2.1.5", "Recipient OK"));
    }

    private async Task OnDataAsync(SessionData data)
    {
        var replyTo = Sender;
        var reply = Reject(data) ?? await AcceptAsync(data).ConfigureAwait(false);
        ResetTransaction();
        _state = SessionState.Greeted;
        replyTo.Tell(new SessionReply(reply));
    }

    private SmtpReply? Reject(SessionData data)
    {
        if (data.TooLarge)
        {
            return new SmtpReply(552, "5.3.4", "Message size exceeds fixed maximum message size");
        }

        if (data.HasNul)
        {
            return new SmtpReply(554, "5.6.0", "Message contains NUL characters");
        }

        if (data.HasLongLine)
        {
            return new SmtpReply(500, "5.5.6", "Line too long (RFC 5321 allows 1000 octets)");
        }

        return data.ReceivedHeaders > _services.Smtp.MaxReceivedHeaders
            ? new SmtpReply(554, "5.4.6", "Too many Received headers: mail loop detected")
            : null;
    }

    private async Task<SmtpReply> AcceptAsync(SessionData data)
    {
        var queueId = MessageIds.New();
        var protocol = (_extended ? "ESMTP" : "SMTP") + (_connection.TlsProtocol is null ? "" : "S");
        var tls = _connection.TlsProtocol is null ? null : $"version={_connection.TlsProtocol} cipher={_connection.TlsCipher}";
        var header = ReceivedHeader.Build(
            _heloName, _connection.Remote?.Address.ToString(), _services.Hostname, protocol, queueId, _recipients, _services.Clock.GetUtcNow(), tls);
        var body = new byte[header.Length + data.Text.Length];
        header.CopyTo(body, 0);
        data.Text.CopyTo(body.AsMemory(header.Length));

        var result = await _services.Acceptor.AcceptAsync(queueId, _sender?.Address ?? "", _recipients.ToList(), dsn: null, body, CancellationToken.None).ConfigureAwait(false);
        return result.Outcome == AcceptOutcome.Accepted
            ? new SmtpReply(250, "2.0.0", $"Ok: queued as {result.MessageId}")
            : new SmtpReply(451, "4.3.0", "Temporary failure storing the message, try again later");
    }

    private SessionReply Reset(SmtpReply reply)
    {
        ResetTransaction();
        return new SessionReply(reply);
    }

    private void ResetTransaction()
    {
        _sender = null;
        _recipients.Clear();
    }
}
