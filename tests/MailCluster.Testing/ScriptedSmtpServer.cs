using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MailCluster.Testing;

/// <summary>
/// A real SMTP server on 127.0.0.1 or ::1 (never any other address) that speaks enough RFC 5321 for MailKit and for
/// MailCluster's outbound client: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, pipelining (RFC 2920), BDAT
/// (RFC 3030) when CHUNKING is among the <see cref="Extensions"/>, and, when enabled, STARTTLS (RFC 3207) with a
/// throw-away self-signed certificate.
/// Replies are scripted through <see cref="Responder"/> and the helper rules; a reply of <see cref="HangUp"/>
/// closes the connection without answering.
/// </summary>
public sealed class ScriptedSmtpServer : IAsyncDisposable
{
    /// <summary>Return this from a responder (or pass it to a helper) to drop the connection instead of replying.</summary>
    public const string HangUp = "<hang-up>";

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly Lock _gate = new();
    private readonly List<ReceivedMessage> _messages = [];
    private readonly List<DateTimeOffset> _dataAttempts = [];
    private readonly List<Task> _sessions = [];
    private readonly List<Func<SmtpStage, ScriptContext, string?>> _rules = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _authentications = [];
    private readonly List<string> _oauthTokens = [];
    private readonly List<string> _commandLines = [];
    private readonly List<(int Connection, string Line, bool Pipelined)> _commandArrivals = [];
    private long _midDataHangUpBytes;
    private int _midDataHangUps;
    private int _connections;
    private int _current;
    private int _maxConcurrent;
    private int _dataEndAttempts;

    /// <param name="enableStartTls">Advertise and accept STARTTLS (off by default).</param>
    /// <param name="hostName">The name used in the greeting and the EHLO reply.</param>
    /// <param name="bind">A loopback address to listen on: 127.0.0.1 (the default) or ::1.</param>
    /// <param name="certificate">The STARTTLS certificate (with its key), e.g. from a <see cref="TestCertificateAuthority"/>;
    /// a self-signed one for <paramref name="hostName"/> when null. Implies <paramref name="enableStartTls"/>.</param>
    public ScriptedSmtpServer(bool enableStartTls = false, string hostName = "scripted.test", IPAddress? bind = null, X509Certificate2? certificate = null)
    {
        enableStartTls |= certificate is not null;
        bind ??= IPAddress.Loopback;
        if (!IPAddress.IsLoopback(bind))
        {
            throw new ArgumentException("tests listen on loopback only", nameof(bind));
        }

        HostName = hostName;
        if (enableStartTls)
        {
            Certificate = certificate ?? CreateCertificate(hostName);
            Extensions = [.. Extensions, "STARTTLS"];
        }

        _listener = new TcpListener(bind, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    public string HostName { get; }

    /// <summary>EHLO keywords advertised after the greeting line. Settable, e.g. to drop 8BITMIME.</summary>
    public IReadOnlyList<string> Extensions { get; set; } =
        ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "SIZE 52428800"];

    /// <summary>
    /// Consulted first at every <see cref="SmtpStage"/>: return a full reply (e.g. <c>"451 4.3.0 try later"</c>,
    /// or several lines joined with CRLF), <see cref="HangUp"/>, or null for the next rule / the default reply.
    /// </summary>
    public Func<SmtpStage, ScriptContext, string?>? Responder { get; set; }

    internal X509Certificate2? Certificate { get; }

    /// <summary>Drop the connection once <paramref name="bytes"/> of message text have arrived, the first
    /// <paramref name="times"/> times: the peer dies in the middle of DATA.</summary>
    public void HangUpMidData(long bytes, int times = 1)
    {
        lock (_gate)
        {
            _midDataHangUpBytes = bytes;
            _midDataHangUps = times;
        }
    }

    internal bool TakeMidDataHangUp(long received)
    {
        lock (_gate)
        {
            if (_midDataHangUps <= 0 || received < _midDataHangUpBytes)
            {
                return false;
            }

            _midDataHangUps--;
            return true;
        }
    }

    /// <summary>When true, STARTTLS is answered 220 and then garbage instead of a TLS ServerHello: the client's
    /// handshake fails (an opportunistic client must then retry in clear, a required one must give up).</summary>
    public bool BreakStartTls { get; set; }

    /// <summary>Every command line received (after TLS too, BDAT chunks excluded), in order, across connections:
    /// the bytes of MAIL and RCPT parameters as the peer sent them.</summary>
    public IReadOnlyList<string> CommandLines
    {
        get
        {
            lock (_gate)
            {
                return [.. _commandLines];
            }
        }
    }

    /// <summary>The command lines of each connection grouped by how they arrived: a group starts with a command read
    /// when nothing else was waiting, and holds the commands the client had already sent behind it (pipelined, RFC 2920;
    /// on loopback one write of the client arrives as one read).</summary>
    public IReadOnlyList<IReadOnlyList<string>> CommandGroups
    {
        get
        {
            lock (_gate)
            {
                var groups = new List<List<string>>();
                var open = new Dictionary<int, List<string>>();
                foreach (var (connection, line, pipelined) in _commandArrivals)
                {
                    if (!pipelined || !open.TryGetValue(connection, out var group))
                    {
                        groups.Add(group = []);
                        open[connection] = group;
                    }

                    group.Add(line);
                }

                return groups;
            }
        }
    }

    internal void RecordCommand(int connectionId, string line, bool pipelined)
    {
        lock (_gate)
        {
            _commandLines.Add(line);
            _commandArrivals.Add((connectionId, line, pipelined));
        }
    }

    /// <summary>When set, EHLO offers AUTH PLAIN and MAIL needs a successful AUTH with these credentials.</summary>
    public (string User, string Password)? Credentials { get; set; }

    /// <summary>When set, EHLO offers AUTH XOAUTH2 and MAIL needs a successful XOAUTH2 whose (user, bearer token) this
    /// accepts; a refused token is answered as Gmail does (334 with a base64 JSON error, then 535 5.7.8).</summary>
    public Func<string, string, bool>? OAuthTokenCheck { get; set; }

    /// <summary>Every XOAUTH2 bearer token presented, accepted or not, in order.</summary>
    public IReadOnlyList<string> OAuthTokensSeen
    {
        get { lock (_gate) { return [.. _oauthTokens]; } }
    }

    internal void RecordOAuthToken(string token)
    {
        lock (_gate)
        {
            _oauthTokens.Add(token);
        }
    }

    /// <summary>User names that authenticated successfully, in order.</summary>
    public IReadOnlyList<string> Authentications
    {
        get { lock (_gate) { return [.. _authentications]; } }
    }

    internal void RecordAuthentication(string user)
    {
        lock (_gate)
        {
            _authentications.Add(user);
        }
    }

    /// <summary>TCP connections accepted so far.</summary>
    public int ConnectionCount => Volatile.Read(ref _connections);

    /// <summary>The largest number of connections open at the same time.</summary>
    public int MaxConcurrentConnections => Volatile.Read(ref _maxConcurrent);

    /// <summary>Transactions accepted with a 2xx reply to the end of DATA, in order.</summary>
    public IReadOnlyList<ReceivedMessage> Messages
    {
        get { lock (_gate) { return [.. _messages]; } }
    }

    /// <summary>When each DATA command arrived, whether or not it was accepted.</summary>
    public IReadOnlyList<DateTimeOffset> DataAttempts
    {
        get { lock (_gate) { return [.. _dataAttempts]; } }
    }

    /// <summary>Answer the first <paramref name="times"/> ends of DATA with <paramref name="reply"/>.</summary>
    public void RefuseDataEnd(int times, string reply)
    {
        int used = 0;
        AddRule((stage, _) => stage == SmtpStage.DataEnd && Interlocked.Increment(ref used) <= times ? reply : null);
    }

    /// <summary>Answer RCPT TO for <paramref name="address"/> (case-insensitive) with <paramref name="reply"/>.</summary>
    public void RefuseRecipient(string address, string reply) =>
        AddRule((stage, ctx) =>
            stage == SmtpStage.Rcpt && string.Equals(ctx.Recipient, address, StringComparison.OrdinalIgnoreCase) ? reply : null);

    /// <summary>Answer every <paramref name="stage"/> with <paramref name="reply"/>.</summary>
    public void ReplyAt(SmtpStage stage, string reply) => AddRule((s, _) => s == stage ? reply : null);

    /// <summary>Drop the connection at <paramref name="stage"/> the first <paramref name="times"/> times.</summary>
    public void HangUpAt(SmtpStage stage, int times = int.MaxValue)
    {
        int used = 0;
        AddRule((s, _) => s == stage && Interlocked.Increment(ref used) <= times ? HangUp : null);
    }

    /// <summary>Adds a rule consulted after <see cref="Responder"/>, in the order rules were added.</summary>
    public void AddRule(Func<SmtpStage, ScriptContext, string?> rule)
    {
        lock (_gate)
        {
            _rules.Add(rule);
        }
    }

    public async Task<ReceivedMessage> WaitForMessageAsync(TimeSpan timeout) =>
        (await WaitForMessagesAsync(1, timeout).ConfigureAwait(false))[0];

    /// <summary>Waits until <paramref name="count"/> messages were accepted and returns the first <paramref name="count"/>.</summary>
    /// <exception cref="TimeoutException">Not enough messages in time; the message lists what was received.</exception>
    public Task<IReadOnlyList<ReceivedMessage>> WaitForMessagesAsync(int count, TimeSpan timeout) =>
        WaitForMessagesAsync(count, timeout, static _ => true);

    /// <summary>Waits until <paramref name="count"/> accepted messages match <paramref name="match"/> (others, such as
    /// reports the node mails on its own, are not counted) and returns the first <paramref name="count"/> of them.</summary>
    /// <exception cref="TimeoutException">Not enough messages in time; the message lists what was received.</exception>
    public async Task<IReadOnlyList<ReceivedMessage>> WaitForMessagesAsync(int count, TimeSpan timeout, Func<ReceivedMessage, bool> match)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                var matching = _messages.Where(match).Take(count).ToList();
                if (matching.Count >= count)
                {
                    return matching;
                }

                changed = _changed.Task;
            }

            TimeSpan remaining = timeout - clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException(Describe(count, timeout));
            }

            await Task.WhenAny(changed, Task.Delay(remaining)).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _acceptLoop.ConfigureAwait(false);
        Task[] sessions;
        lock (_gate)
        {
            sessions = [.. _sessions];
        }

        await Task.WhenAll(sessions).ConfigureAwait(false);
        _listener.Dispose();
        Certificate?.Dispose();
        _stop.Dispose();
    }

    internal string? Decide(SmtpStage stage, ScriptContext context)
    {
        string? reply = Responder?.Invoke(stage, context);
        if (reply is not null)
        {
            return reply;
        }

        Func<SmtpStage, ScriptContext, string?>[] rules;
        lock (_gate)
        {
            rules = [.. _rules];
        }

        foreach (var rule in rules)
        {
            reply = rule(stage, context);
            if (reply is not null)
            {
                return reply;
            }
        }

        return null;
    }

    internal int NextDataEndAttempt() => Interlocked.Increment(ref _dataEndAttempts);

    internal int DataEndAttemptsSoFar => Volatile.Read(ref _dataEndAttempts);

    internal void RecordDataAttempt()
    {
        lock (_gate)
        {
            _dataAttempts.Add(DateTimeOffset.UtcNow);
        }
    }

    internal void RecordMessage(ReceivedMessage message)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _messages.Add(message);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            int id = Interlocked.Increment(ref _connections);
            int now = Interlocked.Increment(ref _current);
            InterlockedMax(ref _maxConcurrent, now);
            var session = new ScriptedSmtpSession(this, id, client);
            lock (_gate)
            {
                _sessions.Add(RunSessionAsync(session, client));
            }
        }
    }

    private async Task RunSessionAsync(ScriptedSmtpSession session, TcpClient client)
    {
        try
        {
            await Task.Yield();
            await session.RunAsync(_stop.Token).ConfigureAwait(false);
        }
        finally
        {
            client.Dispose();
            SessionEnded(session);
        }
    }

    /// <summary>Counts a session out of <see cref="MaxConcurrentConnections"/> once: when it answers QUIT, or when it
    /// ends otherwise. At QUIT, not at the socket's end: a client may open its next connection as soon as it has read
    /// 221, before this side has seen the first one's FIN, and that is not two sessions at once.</summary>
    internal void SessionEnded(ScriptedSmtpSession session)
    {
        if (session.MarkEnded())
        {
            Interlocked.Decrement(ref _current);
        }
    }

    private string Describe(int count, TimeSpan timeout)
    {
        lock (_gate)
        {
            var received = _messages.Select(m =>
                $"[conn {m.ConnectionId} from <{m.MailFrom}> to {string.Join(",", m.Recipients.Select(r => $"<{r}>"))}, {m.Data.Length} bytes]");
            return $"expected {count} message(s) within {timeout}, received {_messages.Count}: {string.Join(" ", received)}; "
                + $"connections={ConnectionCount}, DATA attempts={_dataAttempts.Count}, DATA ends={DataEndAttemptsSoFar}";
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen)
        {
            int previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    private static X509Certificate2 CreateCertificate(string hostName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostName}", key, HashAlgorithmName.SHA256);
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Round-trip through PKCS#12 so SslStream gets a certificate whose private key it can use on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);
    }
}
