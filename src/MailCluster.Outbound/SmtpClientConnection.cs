using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using MailCluster.Queue.Delivery;

namespace MailCluster.Outbound;

/// <summary>
/// The client side of one SMTP session to one next-hop address, reused for several messages: greeting, EHLO, STARTTLS
/// per the TLS policy (before any MAIL), AUTH for a smarthost, then one <see cref="SmtpTransaction"/> per message with
/// RSET before every transaction after the first (pipelined with its MAIL and RCPT when the peer offers PIPELINING).
/// Our own client (not MailKit's SmtpClient) so that the envelope goes out as the client gave it
/// (<see cref="SmtpEnvelopeCommands"/>: ORCPT as received, RFC 3461 §5.2.1) and the body byte for byte; MailKit still
/// computes the SASL responses (<see cref="SmtpAuthentication"/>).
/// </summary>
internal sealed class SmtpClientConnection : IDeliveryConnection
{
    private readonly SmtpPeer _peer;
    private readonly StageTimeouts _timeouts;
    private readonly string _relay;
    private readonly string? _tlsCipher;
    private int _transactions;
    private bool _broken;

    private SmtpClientConnection(SmtpPeer peer, StageTimeouts timeouts, string remote, int port)
    {
        _peer = peer;
        _timeouts = timeouts;
        RemoteMta = remote;
        _relay = $"{remote}:{port}";
        TlsProtocol = peer.Tls is { } tls ? Describe(tls.SslProtocol) : null;
        _tlsCipher = peer.Tls?.NegotiatedCipherSuite.ToString();
    }

    public string RemoteMta { get; }

    public string? TlsProtocol { get; }

    public bool IsUsable => !_broken && _peer.IsConnected;

    /// <summary>Connect, greet, EHLO, STARTTLS per <paramref name="tls"/>, and AUTH when a user is given.
    /// A failure at any of these is connection-level: the caller moves on to the next address.</summary>
    public static async Task<OpenResult> OpenAsync(OutboundOptions options, TlsPolicy tls, string host, IPAddress address, int port,
        string? username, string? password, OAuth.OAuthAccessToken? oauthToken, CancellationToken cancellationToken)
    {
        string remote = $"{host}[{address}]";
        var timeouts = StageTimeouts.From(options);
        string helo = string.IsNullOrWhiteSpace(options.HeloName) ? Environment.MachineName : options.HeloName;
        CertificateVerdict? verdict = null;
        bool connected = false;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        SmtpPeer? peer = null;
        try
        {
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(TimeSpan.FromSeconds(options.ConnectTimeoutSeconds));
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(address, port), connectTimeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return await FailAsync($"connect to {remote}:{port}: timed out after {options.ConnectTimeoutSeconds} s", false).ConfigureAwait(false);
                }
            }

            connected = true;
            peer = new SmtpPeer(socket);

            // Greeting, EHLO, STARTTLS and the handshake under the greeting timeout (RFC 5321 §4.5.3.2.1).
            var greeting = await peer.ReadAsync(timeouts.Greeting, cancellationToken).ConfigureAwait(false);
            var hello = greeting.Code == 220 ? await peer.HelloAsync(helo, timeouts.Greeting, cancellationToken).ConfigureAwait(false) : greeting;
            if (hello.Code != 250)
            {
                return await FailAsync($"{remote} refused the session: {hello.Code} {hello.Text}", true).ConfigureAwait(false);
            }

            if (tls.Mode != TlsMode.None && peer.Offers("STARTTLS"))
            {
                var start = await peer.CommandAsync("STARTTLS", timeouts.Greeting, cancellationToken).ConfigureAwait(false);
                if (start.Code != 220 && !tls.AllowsClearText)
                {
                    return await FailAsync($"{remote}: TLS policy {tls.Mode}: STARTTLS refused: {start.Code} {start.Text}", true, startTlsMissing: true).ConfigureAwait(false);
                }

                if (start.Code == 220)
                {
                    try
                    {
#pragma warning disable CA5359 // Only TlsMode.Verify authenticates the peer; the others accept any certificate (RFC 7435 §3).
                        await peer.StartTlsAsync(host, (_, certificate, chain, errors) =>
                        {
                            // Judged under every mode, for TLS-RPT (an MTA-STS "testing" policy reports what enforce would refuse).
                            verdict = tls.DaneRecords is { } dane
                                ? Dane.DaneCertificates.Verdict(certificate, chain, host, tls.AllowedNames, dane)
                                : tls.Trust.Check(certificate, chain, errors);
                            return tls.AcceptCertificate(verdict.Value);
                        }, timeouts.Greeting, cancellationToken).ConfigureAwait(false);
#pragma warning restore CA5359
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is AuthenticationException or IOException or OperationCanceledException)
                    {
                        return await FailAsync($"{remote}: TLS handshake failed: {e.Message}", true, tlsHandshakeFailed: true).ConfigureAwait(false);
                    }

                    hello = await peer.HelloAsync(helo, timeouts.Greeting, cancellationToken).ConfigureAwait(false);
                    if (hello.Code != 250)
                    {
                        return await FailAsync($"{remote} refused the session after STARTTLS: {hello.Code} {hello.Text}", true).ConfigureAwait(false);
                    }
                }
            }

            // RFC 3207 §4.1: a policy that demands TLS sends nothing in clear, not even MAIL.
            if (peer.Tls is null && !tls.AllowsClearText)
            {
                return await FailAsync($"{remote}: TLS policy {tls.Mode} but the server does not offer STARTTLS", true, startTlsMissing: true).ConfigureAwait(false);
            }

            if (username is not null
                && await SmtpAuthentication.AuthenticateAsync(peer, host, username, password, oauthToken, timeouts.Command, cancellationToken).ConfigureAwait(false) is { } refused)
            {
                return await FailAsync($"{remote}: authentication failed: {refused}", true).ConfigureAwait(false);
            }

            return new OpenResult(new SmtpClientConnection(peer, timeouts, remote, port), remote, null, true) { Certificate = verdict };
        }
        catch (SocketException e) when (!connected)
        {
            return await FailAsync($"connect to {remote}:{port}: {e.Message}", false).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // IDeliveryConnector contract: only cancellation escapes; network, TLS and protocol errors move on.
            return await FailAsync($"{remote}: {ClientFailures.Describe(e)}", connected).ConfigureAwait(false);
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }

        async Task<OpenResult> FailAsync(string error, bool wasConnected, bool tlsHandshakeFailed = false, bool startTlsMissing = false)
        {
            await DisposeAsync().ConfigureAwait(false);
            return new OpenResult(null, remote, error, wasConnected, tlsHandshakeFailed) { Certificate = verdict, StartTlsMissing = startTlsMissing };
        }

        async ValueTask DisposeAsync()
        {
            if (peer is not null)
            {
                await peer.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }
        }
    }

    public async Task<DeliveryResult> SendAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var outcomes = new RecipientOutcome?[request.Recipients.Count];
        if (!IsUsable)
        {
            return Result(ClientFailures.Fill(outcomes, request, OutcomeKind.Transient, 0, "4.4.2", $"connection to {RemoteMta} is closed"));
        }

        try
        {
            await new SmtpTransaction(_peer, _timeouts, request, outcomes, resetFirst: _transactions++ > 0).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The connection broke mid-transaction (closed during DATA, timeout, protocol error): every recipient
            // without a final reply is retried later; the message may have been received (the duplicate risk of
            // RFC 5321 §6.1 is the peer's to avoid by answering before closing).
            _broken = true;
            return Result(ClientFailures.Fill(outcomes, request, OutcomeKind.Transient, 0, "4.4.2", $"connection to {RemoteMta} lost: {ClientFailures.Describe(e)}"));
        }

        return Result(ClientFailures.Fill(outcomes, request, OutcomeKind.Transient, 0, "4.4.2", "no reply for this recipient"));
    }

    private DeliveryResult Result(IReadOnlyList<RecipientOutcome> outcomes) =>
        new(outcomes, RemoteMta, TlsProtocol, _peer.Offers("DSN")) { Relay = _relay, TlsCipher = _tlsCipher };

    public async ValueTask DisposeAsync()
    {
        if (_peer.IsConnected && !_broken)
        {
            try
            {
                await _peer.CommandAsync("QUIT", _timeouts.Command, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The outcomes are known; a failed QUIT changes nothing.
            }
        }

        await _peer.DisposeAsync().ConfigureAwait(false);
    }

    private static string Describe(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => protocol.ToString(),
    };
}
