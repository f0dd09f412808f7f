using System.Net;
using System.Text;
using MailCluster.Edge.Auth;
using MailCluster.Edge.Policy;
using MailCluster.Edge.Session;
using MailCluster.Edge.Tls;
using MailCluster.Queue.Acceptance;
using MailCluster.Queue.Protocol;
using MailCluster.Smtp;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace MailCluster.Edge.Tests.Session;

/// <summary>A pure <see cref="SmtpSession"/> driven as the connection drives it, without sockets: command lines are
/// parsed as the connection parses them, TLS is reported as the connection reports it after a handshake.</summary>
internal sealed class SessionHarness
{
    public const string User = "ann";
    public const string Password = "secret-1";

    /// <param name="oauth">The bearer-token validator, when OAuth is to be configured.</param>
    /// <param name="withUsers">Whether the password user <see cref="User"/> is configured.</param>
    public SessionHarness(ListenerRole role = ListenerRole.Mx, int maxBadCommands = 20, bool implicitTls = false, OAuthTokenValidator? oauth = null, bool withUsers = true, int maxAuthFailures = 3)
    {
        var smtp = new SmtpOptions { MaxBadCommands = maxBadCommands, AuthFailureDelayMilliseconds = 0, MaxAuthFailures = maxAuthFailures };
        var domains = new DomainsOptions();
        domains.Local.Add("example.test");
        var user = new SmtpUserOptions { Name = User, PasswordHash = PasswordHasher.Hash(Password, iterations: 1) };
        user.AllowedSenders.Add("origin.test");
        var services = new EdgeServices(
            "mx.test",
            smtp,
            new RelayPolicy(domains, smtp),
            Acceptor,
            TimeProvider.System,
            new CertificateProvider(null, null, "mx.test", NullLogger.Instance),
            new ConnectionLimiter(10, 10),
            new UserDirectory(withUsers ? [user] : []),
            CancellationToken.None,
            CancellationToken.None)
        {
            OAuth = oauth,
        };
        var listener = new SmtpListener(role.ToString(), 2525, role, implicitTls);
        var info = new ConnectionInfo("c1", new IPEndPoint(IPAddress.Loopback, 40000), listener, implicitTls ? "TLSv1.3" : null, implicitTls ? "TLS_AES_128_GCM_SHA256" : null);
        Session = new SmtpSession(info, services);
    }

    public SmtpSession Session { get; }

    public RecordingAcceptor Acceptor { get; } = new();

    /// <summary>One command line, as the connection hands it over: a parsed command, or the parser's refusal.</summary>
    public async Task<SessionReply> SendAsync(string line)
    {
        var parsed = SmtpCommandParser.Parse(Encoding.UTF8.GetBytes(line));
        object input = parsed.Command is { } command ? new SessionCommand(command) : new SessionUnreadableCommand(parsed.Error!.Value);
        return await Session.HandleAsync(input);
    }

    public async Task<SessionReply> StartTlsAsync()
    {
        var reply = await SendAsync("STARTTLS");
        Assert.Equal(SessionAction.StartTls, reply.Action);
        return await Session.HandleAsync(new SessionTlsStarted("TLSv1.3", "TLS_AES_128_GCM_SHA256"));
    }

    public async Task AuthenticateAsync()
    {
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{User}\0{Password}"));
        Assert.Equal(235, (await SendAsync($"AUTH PLAIN {plain}")).Reply.Code);
    }

    public static SessionData Message(string text = "Subject: hi\r\n\r\nhello\r\n") =>
        new(Encoding.ASCII.GetBytes(text), TooLarge: false, HasLongLine: false, HasNul: false, ReceivedHeaders: 0);

    /// <summary>An in-process acceptor: records what it was given and accepts it.</summary>
    internal sealed class RecordingAcceptor : IMessageAcceptor
    {
        public List<IReadOnlyList<string>> Accepted { get; } = [];

        public Task<AcceptResult> AcceptAsync(string messageId, string sender, IReadOnlyList<string> recipients, DsnEnvelope? dsn, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
        {
            Accepted.Add(recipients);
            return Task.FromResult(new AcceptResult(AcceptOutcome.Accepted, messageId, null));
        }
    }
}
