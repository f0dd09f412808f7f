using System.Net;
using System.Net.Sockets;
using System.Text;
using MailCluster.Queue.Delivery;

namespace MailCluster.Outbound;

/// <summary>
/// The client side of one LMTP session, for the <c>lmtp:host:port</c> route: a minimal RFC 2033 client (MailKit 4
/// has none). LHLO, then per message MAIL, RCPT for each recipient, DATA with dot-stuffing, and one reply per
/// accepted recipient after the final "." (RFC 2033 §4.2), which is what makes LMTP outcomes per recipient. Clear text only: LMTP runs to a
/// mailbox server on a trusted network. Commands are sent one at a time (no pipelining).
/// </summary>
internal sealed class LmtpClientConnection : IDeliveryConnection
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PeerReplyReader _reader;
    private readonly StageTimeouts _timeouts;
    private int _transactions;
    private bool _broken;

    private readonly string _relay;

    private LmtpClientConnection(Socket socket, string remote, int port, StageTimeouts timeouts)
    {
        _relay = $"{remote}:{port}";
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new PeerReplyReader(_stream);
        _timeouts = timeouts;
        RemoteMta = remote;
    }

    public string RemoteMta { get; }

    public string? TlsProtocol => null;

    public bool IsUsable => !_broken && _socket.Connected;

    private bool OffersDsn { get; set; }

    public static async Task<OpenResult> OpenAsync(OutboundOptions options, string host, IPAddress address, int port, CancellationToken ct)
    {
        string remote = $"{host}[{address}]";
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        LmtpClientConnection? connection = null;
        try
        {
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                connectTimeout.CancelAfter(TimeSpan.FromSeconds(options.ConnectTimeoutSeconds));
                await socket.ConnectAsync(new IPEndPoint(address, port), connectTimeout.Token).ConfigureAwait(false);
            }

            connection = new LmtpClientConnection(socket, remote, port, StageTimeouts.From(options));
            var greeting = await connection._reader.ReadAsync(connection._timeouts.Greeting, ct).ConfigureAwait(false);
            string helo = string.IsNullOrWhiteSpace(options.HeloName) ? Environment.MachineName : options.HeloName;
            var lhlo = greeting.Code == 220 ? await connection.CommandAsync($"LHLO {helo}", connection._timeouts.Greeting, ct).ConfigureAwait(false) : greeting;
            if (lhlo.Code != 250)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                return new OpenResult(null, remote, $"{remote} refused the session: {lhlo.Code} {lhlo.Text}", true);
            }

            connection.OffersDsn = lhlo.Lines.Any(l => l.Equals("DSN", StringComparison.OrdinalIgnoreCase));
            return new OpenResult(connection, remote, null, true);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is SocketException or IOException or OperationCanceledException or TimeoutException)
        {
            bool connected = connection is not null;
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            return new OpenResult(null, remote, $"{remote}: {ClientFailures.Describe(e)}", connected);
        }
    }

    public async Task<DeliveryResult> SendAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var outcomes = new RecipientOutcome?[request.Recipients.Count];
        try
        {
            if (IsUsable)
            {
                await TransactionAsync(request, outcomes, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is SocketException or IOException or OperationCanceledException or TimeoutException)
        {
            _broken = true;
            return Result(ClientFailures.Fill(outcomes, request, OutcomeKind.Transient, 0, "4.4.2", $"connection to {RemoteMta} lost: {ClientFailures.Describe(e)}"));
        }

        return Result(ClientFailures.Fill(outcomes, request, OutcomeKind.Transient, 0, "4.4.2", $"connection to {RemoteMta} is closed"));
    }

    private DeliveryResult Result(IReadOnlyList<RecipientOutcome> outcomes) => new(outcomes, RemoteMta, null, OffersDsn, FinalDelivery: true) { Relay = _relay };

    private async Task TransactionAsync(DeliveryRequest request, RecipientOutcome?[] outcomes, CancellationToken ct)
    {
        if (_transactions++ > 0)
        {
            await CommandAsync("RSET", _timeouts.Command, ct).ConfigureAwait(false);
        }

        var mail = await CommandAsync($"MAIL FROM:<{request.Sender}>", _timeouts.Mail, ct).ConfigureAwait(false);
        if (mail.Code is < 200 or >= 300)
        {
            for (int i = 0; i < outcomes.Length; i++)
            {
                outcomes[i] = SmtpReplyClassifier.Classify(request.Recipients[i], mail.Code, mail.Text);
            }

            return;
        }

        var accepted = new List<int>();
        for (int i = 0; i < request.Recipients.Count; i++)
        {
            var rcpt = await CommandAsync($"RCPT TO:<{request.Recipients[i]}>", _timeouts.Rcpt, ct).ConfigureAwait(false);
            if (rcpt.Code is >= 200 and < 300)
            {
                accepted.Add(i);
            }
            else
            {
                outcomes[i] = SmtpReplyClassifier.Classify(request.Recipients[i], rcpt.Code, rcpt.Text);
            }
        }

        if (accepted.Count == 0)
        {
            await CommandAsync("RSET", _timeouts.Command, ct).ConfigureAwait(false);
            return;
        }

        var data = await CommandAsync("DATA", _timeouts.DataStart, ct).ConfigureAwait(false);
        if (data.Code != 354)
        {
            foreach (int i in accepted)
            {
                outcomes[i] = SmtpReplyClassifier.Classify(request.Recipients[i], data.Code, data.Text);
            }

            return;
        }

        byte[] stuffed = DotStuffing.Stuff(OutboundContent.NormalizeLineEndings(request.Body).Span);
        using (var block = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            block.CancelAfter(_timeouts.DataBlock);
            await _stream.WriteAsync(stuffed, block.Token).ConfigureAwait(false);
        }

        // RFC 2033 §4.2: one reply per recipient accepted at RCPT, in RCPT order.
        foreach (int i in accepted)
        {
            var reply = await _reader.ReadAsync(_timeouts.DataEnd, ct).ConfigureAwait(false);
            outcomes[i] = SmtpReplyClassifier.Classify(request.Recipients[i], reply.Code, reply.Text);
        }
    }

    private async Task<PeerReply> CommandAsync(string command, int timeoutMs, CancellationToken ct)
    {
        using (var write = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            write.CancelAfter(timeoutMs);
            await _stream.WriteAsync(Encoding.UTF8.GetBytes(command + "\r\n"), write.Token).ConfigureAwait(false);
        }

        return await _reader.ReadAsync(timeoutMs, ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (IsUsable)
        {
            try
            {
                await CommandAsync("QUIT", _timeouts.Command, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or TimeoutException)
            {
                // Nothing depends on QUIT.
            }
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
