using MailCluster.Edge.Auth;
using MailCluster.Queue.Protocol;
using MailCluster.Smtp;

namespace MailCluster.Edge.Session;

/// <summary>
/// The conversation of one SMTP session (one TCP connection), with no I/O: sequencing (every 503 from
/// <see cref="SmtpStateTable"/>), TLS and AUTH state, listener policy, the envelope, and the session rules: the count
/// of bad commands and the 421 that ends the session after too many, the message abandoned on RSET/HELO/EHLO
/// (<see cref="SessionAction.AbandonMessage"/>). <see cref="SmtpServerConnection"/> owns the socket, frames the input
/// and runs the commands inline (no thread hand-off per command); the end of a message goes through the connection's
/// <see cref="SmtpSessionActor"/>, which makes it durable. Not thread-safe, and it need not be: the connection awaits
/// every call, including the actor's reply, before it reads the next input, so only one thread uses it at a time.
/// Every input is answered with exactly one <see cref="SessionReply"/>, whose action tells the connection how to
/// read on.
/// </summary>
public sealed partial class SmtpSession
{
    private static readonly SessionReply ResetDone = new(SmtpReplies.Ok, SessionAction.AbandonMessage);
    private static readonly SessionReply TooManyErrors = new(SmtpReplies.TooManyErrors, SessionAction.Close);

    private readonly ConnectionInfo _connection;
    private readonly EdgeServices _services;
    private readonly SessionReplyCache _replies;
    private readonly List<string> _recipients = [];
    private readonly List<DsnRecipient> _dsnRecipients = [];
    private SessionState _state = SessionState.Connected;
    private string _heloName = "unknown";
    private bool _extended;
    private string? _tlsProtocol;
    private string? _tlsCipher;
    private SmtpUser? _user;
    private MailCommand? _mail;
    private int _messages;
    private int _badCommands;

    public SmtpSession(ConnectionInfo connection, EdgeServices services)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _services = services;
        _tlsProtocol = connection.TlsProtocol;
        _tlsCipher = connection.TlsCipher;
        Metrics = services.Metrics.For(connection.Listener.Role);
        _replies = SessionReplyCache.For(services.Hostname, services.Smtp.MaxMessageSize);
    }

    /// <summary>The metrics of this session's listener.</summary>
    internal ListenerMetrics Metrics { get; }

    /// <summary>Answers every input but <see cref="SessionData"/> (that one goes to the actor). Completes
    /// synchronously, without allocating a task, except for AUTH (user lookup, failure delay).</summary>
    public ValueTask<SessionReply> HandleAsync(object input) => input switch
    {
        SessionStart => new(new SessionReply(_replies.Greeting)),
        SessionCommand c => HandleAsync(c.Command),
        SessionAuthLine l => ContinueAuthAsync(l.Line),
        SessionTlsStarted t => new(OnTlsStarted(t)),
        SessionChunk c => new(new SessionReply(SmtpReplies.ChunkReceived(c.Size))),
        SessionUnreadableCommand u => new(CountBad(new SessionReply(u.Error))),
        _ => throw new ArgumentException($"{input.GetType().Name} is not a session input the connection may run inline", nameof(input)),
    };

    private bool IsTls => _tlsProtocol is not null;

    private SessionFacts Facts => (IsTls ? SessionFacts.Tls : SessionFacts.None) | (_user is not null ? SessionFacts.Authenticated : SessionFacts.None);

    /// <summary>Answers a command and counts it if it was a bad one. Synchronous answers (all but AUTH) take the fast
    /// path: no async state machine is boxed per command.</summary>
    private ValueTask<SessionReply> HandleAsync(SmtpCommand command)
    {
        var answer = AnswerAsync(command);
        return answer.IsCompletedSuccessfully ? new(Counted(command, answer.Result)) : CountedAsync(command, answer);
    }

    private async ValueTask<SessionReply> CountedAsync(SmtpCommand command, ValueTask<SessionReply> answer) =>
        Counted(command, await answer.ConfigureAwait(false));

    /// <summary>A refused BDAT is not counted: its reply goes out only once its chunk is read (RFC 3030 §2), after which
    /// a 421 could no longer stand in for it.</summary>
    private SessionReply Counted(SmtpCommand command, SessionReply reply) =>
        IsBadCommand(reply.Reply) && command.Verb != SmtpVerb.Bdat ? CountBad(reply) : reply;

    private async ValueTask<SessionReply> AnswerAsync(SmtpCommand command)
    {
        if (SmtpStateTable.Check(_state, command.Verb, Facts) is { } sequenceError)
        {
            return new SessionReply(sequenceError);
        }

        var reply = command switch
        {
            HeloCommand h => OnHelo(h),
            MailCommand m => await OnMailAsync(m).ConfigureAwait(false),
            RcptCommand r => OnRcpt(r),
            BdatCommand b => OnBdat(b),
            AuthCommand a => await StartAuthAsync(a).ConfigureAwait(false),
            SimpleCommand { Verb: SmtpVerb.Data } => new SessionReply(SmtpReplies.StartMailInput, SessionAction.ReadData),
            SimpleCommand { Verb: SmtpVerb.StartTls } => new SessionReply(SmtpReplies.ReadyToStartTls, SessionAction.StartTls),
            SimpleCommand { Verb: SmtpVerb.Rset } => Reset(),
            SimpleCommand { Verb: SmtpVerb.Noop } => new SessionReply(SmtpReplies.Ok),
            SimpleCommand { Verb: SmtpVerb.Quit } => new SessionReply(_replies.Closing, SessionAction.Close),

            // RFC 5321 §3.5.3: 252 neither confirms nor denies that a mailbox exists (no harvesting).
            SimpleCommand { Verb: SmtpVerb.Vrfy } => new SessionReply(SmtpReplies.CannotVerify),
            SimpleCommand { Verb: SmtpVerb.Expn } => new SessionReply(new SmtpReply(502, "5.5.1", "EXPN not supported")),
            SimpleCommand { Verb: SmtpVerb.Help } => new SessionReply(SmtpReplies.HelpText),
            _ => new SessionReply(SmtpReplies.NotImplemented),
        };

        if (reply.Reply.IsPositive || reply.Action is SessionAction.ReadChunk)
        {
            _state = SmtpStateTable.Next(_state, command);
        }
        else if (command is MailCommand or RcptCommand)
        {
            LogRejected(command, reply.Reply);
        }

        return reply;
    }

    private SessionReply OnHelo(HeloCommand helo)
    {
        ResetTransaction();
        _heloName = helo.Domain;
        _extended = helo.Extended;
        return helo.Extended
            ? new SessionReply(SmtpReplies.Ehlo(_services.Hostname, helo.Domain, EhloKeywords()), SessionAction.AbandonMessage)
            : new SessionReply(SmtpReplies.Helo(_services.Hostname, helo.Domain), SessionAction.AbandonMessage);
    }

    /// <summary>The EHLO keyword lines for this session's state (cached per node, <see cref="SessionReplyCache"/>).</summary>
    private string EhloKeywords()
    {
        var offerAuth = IsTls && _user is null;
        return _replies.EhloKeywords(IsTls, offerAuth && _services.Users.OffersPasswordAuth, offerAuth && _services.OAuth is not null);
    }

    private SessionReply OnTlsStarted(SessionTlsStarted tls)
    {
        // RFC 3207 §4.2: discard all knowledge obtained from the client; EHLO must be sent again.
        _tlsProtocol = tls.Protocol;
        _tlsCipher = tls.Cipher;
        MailLog.TlsStarted(_services.MailLog, Client, tls.Protocol, tls.Cipher, _connection.ConnectionId);
        ResetTransaction();
        _state = SessionState.Connected;
        _heloName = "unknown";
        return new SessionReply(SmtpReplies.Ok);
    }

    /// <summary>RSET (RFC 5321 §4.1.1.5): the transaction and any message text read so far are dropped.</summary>
    private SessionReply Reset()
    {
        ResetTransaction();
        return ResetDone;
    }

    /// <summary>RFC 5321 §4.3.2's "command unrecognized", syntax, not implemented, bad sequence, parameter and
    /// ESMTP-parameter failures: the replies that count towards <see cref="SmtpOptions.MaxBadCommands"/>.</summary>
    private static bool IsBadCommand(SmtpReply reply) => reply.Code is 500 or 501 or 502 or 503 or 504 or 555;

    /// <summary>Counts a bad command; past <see cref="SmtpOptions.MaxBadCommands"/> the session ends with 421 instead
    /// of <paramref name="reply"/> (as Postfix's smtpd_hard_error_limit: a client that keeps erring is not served).</summary>
    private SessionReply CountBad(SessionReply reply) => ++_badCommands > _services.Smtp.MaxBadCommands ? TooManyErrors : reply;

    private void ResetTransaction()
    {
        _mail = null;
        _recipients.Clear();
        _dsnRecipients.Clear();
    }
}
