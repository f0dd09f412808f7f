using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using MailCluster.Queue.Delivery;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace MailCluster.Outbound;

/// <summary>
/// The client side of one SMTP session to one next-hop address (MailKit through <see cref="RelaySmtpClient"/>),
/// reused for several messages: RSET before every transaction after the first, the content rules of
/// <see cref="OutboundContent"/>, recipients split over several transactions when the peer answers 452
/// (RFC 5321 §4.5.3.1.10), and a TLS policy applied before any MAIL.
/// </summary>
internal sealed class SmtpClientConnection : IDeliveryConnection
{
    private readonly RelaySmtpClient _client;
    private int _transactions;
    private bool _broken;

    private readonly string _relay;

    private SmtpClientConnection(RelaySmtpClient client, string remote, int port)
    {
        _client = client;
        RemoteMta = remote;
        _relay = $"{remote}:{port}";
        TlsProtocol = client.IsSecure ? Describe(client.SslProtocol) : null;
        _tlsCipher = client.IsSecure ? client.SslCipherSuite?.ToString() : null;
    }

    private readonly string? _tlsCipher;

    public string RemoteMta { get; }

    public string? TlsProtocol { get; }

    public bool IsUsable => !_broken && _client.IsConnected;

    /// <summary>Connect, greet, EHLO, STARTTLS per <paramref name="tls"/>, and AUTH when a user is given.
    /// A failure at any of these is connection-level: the caller moves on to the next address.</summary>
    public static async Task<OpenResult> OpenAsync(OutboundOptions options, TlsPolicy tls, string host, IPAddress address, int port,
        string? username, string? password, OAuth.OAuthAccessToken? oauthToken, CancellationToken cancellationToken)
    {
        string remote = $"{host}[{address}]";
        var timeouts = StageTimeouts.From(options);
        var client = new RelaySmtpClient(timeouts)
        {
            LocalDomain = string.IsNullOrWhiteSpace(options.HeloName) ? Environment.MachineName : options.HeloName,
            Timeout = timeouts.Greeting,
            CheckCertificateRevocation = false,
        };
        CertificateVerdict? verdict = null;
#pragma warning disable CA5359 // Only TlsMode.Verify authenticates the peer; the others accept any certificate (RFC 7435 §3).
        client.ServerCertificateValidationCallback = (_, certificate, chain, errors) =>
        {
            // Judged under every mode, for TLS-RPT (an MTA-STS "testing" policy reports what enforce would refuse).
            verdict = tls.DaneRecords is { } dane
                ? Dane.DaneCertificates.Verdict(certificate, chain, host, tls.AllowedNames, dane)
                : tls.Trust.Check(certificate, chain, errors);
            return tls.AcceptCertificate(verdict.Value);
        };
#pragma warning restore CA5359
        bool connected = false;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
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
                    return Fail($"connect to {remote}:{port}: timed out after {options.ConnectTimeoutSeconds} s", false);
                }
            }

            connected = true;

            // Greeting, EHLO and STARTTLS under the greeting timeout (RFC 5321 §4.5.3.2.1). With SecureSocketOptions.StartTls
            // MailKit throws NotSupportedException when STARTTLS is not offered, before any MAIL: nothing goes in clear.
            await client.ConnectAsync(socket, host, port, tls.SocketOptions, cancellationToken).ConfigureAwait(false);
            if (!client.IsSecure && !tls.AllowsClearText)
            {
                return Fail($"{remote}: TLS policy {tls.Mode} but the session is not encrypted", true, startTlsMissing: true);
            }

            if (username is not null && oauthToken is not null)
            {
                // XOAUTH2 (Google's and Microsoft's SASL mechanism for a bearer token); MailKit answers the server's
                // error challenge with the empty line the mechanism requires.
                client.Timeout = timeouts.Command;
                try
                {
                    await client.AuthenticateAsync(new SaslMechanismOAuth2(username, oauthToken.Value), cancellationToken).ConfigureAwait(false);
                }
                catch (MailKit.Security.AuthenticationException)
                {
                    oauthToken.Reject();
                    throw;
                }
            }
            else if (username is not null)
            {
                client.Timeout = timeouts.Command;
                await client.AuthenticateAsync(username, password ?? "", cancellationToken).ConfigureAwait(false);
            }

            return new OpenResult(new SmtpClientConnection(client, remote, port), remote, null, true) { Certificate = verdict };
        }
        catch (SocketException e) when (!connected)
        {
            return Fail($"connect to {remote}:{port}: {e.Message}", false);
        }
        catch (SmtpCommandException e)
        {
            return Fail($"{remote} refused the session: {(int)e.StatusCode} {e.Message}", true);
        }
        catch (NotSupportedException e) when (tls.Mode is TlsMode.Required or TlsMode.Verify)
        {
            return Fail($"{remote}: TLS policy {tls.Mode}: {e.Message}", true, startTlsMissing: true);
        }
        catch (SslHandshakeException e) when (!cancellationToken.IsCancellationRequested)
        {
            return Fail($"{remote}: {ClientFailures.Describe(e)}", true, tlsHandshakeFailed: true);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // IDeliveryConnector contract: only cancellation escapes; network, TLS and protocol errors move on.
            return Fail($"{remote}: {ClientFailures.Describe(e)}", connected);
        }

        OpenResult Fail(string error, bool wasConnected, bool tlsHandshakeFailed = false, bool startTlsMissing = false)
        {
            client.Dispose();
            socket.Dispose();
            return new OpenResult(null, remote, error, wasConnected, tlsHandshakeFailed) { Certificate = verdict, StartTlsMissing = startTlsMissing };
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
            if (_transactions++ > 0)
            {
                await _client.ResetAsync(cancellationToken).ConfigureAwait(false);
            }

            await new SmtpTransaction(_client, request, outcomes).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not SmtpCommandException)
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
        new(outcomes, RemoteMta, TlsProtocol, (_client.Capabilities & SmtpCapabilities.Dsn) != 0) { Relay = _relay, TlsCipher = _tlsCipher };

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            try
            {
                _client.Timeout = _client.Timeouts.Command;
                await _client.DisconnectAsync(quit: true, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or TimeoutException or SmtpProtocolException
                or SmtpCommandException or ServiceNotConnectedException or OperationCanceledException or ObjectDisposedException)
            {
                // The outcomes are known; a failed QUIT changes nothing.
            }
        }

        _client.Dispose();
    }

    private static string Describe(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => protocol.ToString(),
    };
}
