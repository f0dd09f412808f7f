using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using MailCluster.Queue.Delivery;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace MailCluster.Outbound;

/// <summary>The result of one connection attempt to one address.</summary>
/// <param name="Outcomes">Per-recipient outcomes (by request index) when a transaction ran; null when the
/// attempt failed at the connection level and the next address should be tried.</param>
/// <param name="Connected">True when the TCP connection was established before the failure.</param>
internal sealed record AttemptResult(
    IReadOnlyList<(int Index, RecipientOutcome Outcome)>? Outcomes,
    string? RemoteMta,
    string? TlsProtocol,
    string? Error,
    bool Connected);

/// <summary>Runs one SMTP transaction for one message on one address with MailKit.</summary>
internal sealed class SmtpDeliverySession(
    OutboundOptions options,
    MimeMessage message,
    MailboxAddress sender,
    IReadOnlyList<(int Index, MailboxAddress Mailbox)> recipients)
{
    /// <summary>
    /// DESIGN invariant 4 (bytes in, bytes out): CRLF, no hidden headers (MailKit's own default hides Bcc,
    /// Resent-Bcc and Content-Length), no SMTPUTF8 re-formatting of headers (International = false keeps raw values).
    /// </summary>
    private static readonly FormatOptions ExactFormat = CreateExactFormat();

    private readonly string _heloName = string.IsNullOrWhiteSpace(options.HeloName) ? Environment.MachineName : options.HeloName;

    public async Task<AttemptResult> RunAsync(string host, IPAddress address, CancellationToken cancellationToken)
    {
        string remote = $"{host}[{address}]";
        using var client = new RecordingSmtpClient
        {
            LocalDomain = _heloName,
            Timeout = (int)Math.Min(int.MaxValue, TimeSpan.FromSeconds(options.CommandTimeoutSeconds).TotalMilliseconds),
            CheckCertificateRevocation = false,
            // Opportunistic TLS (RFC 7435 §3): any certificate beats plaintext; MX certificates are often not valid
            // for the MX name. Authenticated MX TLS is MTA-STS/DANE's job (RFC 8461 / RFC 7672), not this flag's.
#pragma warning disable CA5359 // Accepting any certificate is the definition of opportunistic TLS here.
            ServerCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
        };

        bool connected = false;
        try
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(TimeSpan.FromSeconds(options.ConnectTimeoutSeconds));
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(address, options.Port), connectTimeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return Failed(remote, $"connect to {remote}:{options.Port}: timed out after {options.ConnectTimeoutSeconds} s", false);
                }
            }

            connected = true;
            // Greeting, EHLO and STARTTLS run under the command timeout (RFC 5321 §4.5.3.2.1 allows 5 minutes for the greeting).
            await client.ConnectAsync(socket, host, options.Port, SecureSocketOptions.StartTlsWhenAvailable, cancellationToken).ConfigureAwait(false);
            string? tls = client.IsSecure ? DescribeTls(client.SslProtocol) : null;
            var outcomes = await SendAsync(client, cancellationToken).ConfigureAwait(false);
            await QuitQuietlyAsync(client, cancellationToken).ConfigureAwait(false);
            return new AttemptResult(outcomes, remote, tls, null, true);
        }
        catch (SocketException e) when (!connected)
        {
            return Failed(remote, $"connect to {remote}:{options.Port}: {e.Message}", false);
        }
        catch (SmtpCommandException e)
        {
            // Only the greeting or EHLO/HELO can get here (SendAsync maps transaction replies itself).
            return Failed(remote, $"{remote} refused the session: {(int)e.StatusCode} {e.Message}", true);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // IDeliverer contract: only cancellation escapes. Network, TLS and protocol errors are expected here;
            // anything else is still better retried on the next address than thrown into the queue actor.
            return Failed(remote, $"{remote}: {Describe(e)}", connected);
        }
    }

    private async Task<IReadOnlyList<(int, RecipientOutcome)>> SendAsync(RecordingSmtpClient client, CancellationToken cancellationToken)
    {
        MailboxAddress[] mailboxes = [.. recipients.Select(r => r.Mailbox)];
        try
        {
            string reply = await client.SendAsync(ExactFormat, message, sender, mailboxes, cancellationToken).ConfigureAwait(false);
            return Map(client, (250, reply));
        }
        catch (SmtpCommandException e) when (e.ErrorCode == SmtpErrorCode.SenderNotAccepted)
        {
            // RFC 5321 §3.3: a refused MAIL ends the transaction for every recipient.
            return [.. recipients.Select(r => (r.Index, SmtpReplyClassifier.Classify("", (int)e.StatusCode, e.Message)))];
        }
        catch (SmtpCommandException e)
        {
            // DATA refused (354 not given), end of data refused, or no recipient accepted: recipients refused at
            // RCPT keep their own replies, the accepted ones share the DATA reply.
            return Map(client, client.NoRecipientsAccepted ? null : ((int)e.StatusCode, e.Message));
        }
        catch (ServiceNotAuthenticatedException e)
        {
            // 530: the MX wants authentication, which an MTA relaying to an MX cannot give.
            return [.. recipients.Select(r => (r.Index, SmtpReplyClassifier.Classify("", 530, e.Message)))];
        }
    }

    /// <param name="dataReply">The reply that decides the recipients accepted at RCPT; null if none was.</param>
    private List<(int, RecipientOutcome)> Map(RecordingSmtpClient client, (int Code, string Text)? dataReply)
    {
        var outcomes = new List<(int, RecipientOutcome)>();
        foreach (var (index, mailbox) in recipients)
        {
            bool hasReply = client.RecipientReplies.TryGetValue(mailbox, out var rcpt);
            RecipientOutcome outcome = hasReply && (int)rcpt!.StatusCode is < 200 or >= 300
                ? SmtpReplyClassifier.Classify("", (int)rcpt.StatusCode, rcpt.Response)
                : dataReply is { } data
                    ? SmtpReplyClassifier.Classify("", data.Code, data.Text)
                    : SmtpReplyClassifier.Classify("", 554, "5.5.1 no recipient was accepted");
            outcomes.Add((index, outcome));
        }

        return outcomes;
    }

    /// <summary>The outcomes are known once DATA is answered; a failed QUIT changes nothing.</summary>
    private static async Task QuitQuietlyAsync(SmtpClient client, CancellationToken cancellationToken)
    {
        try
        {
            await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsNetworkFailure(e))
        {
            // Ignored on purpose.
        }
    }

    private static AttemptResult Failed(string remote, string error, bool connected) => new(null, remote, null, error, connected);

    private static bool IsNetworkFailure(Exception e) => e is IOException or SocketException or TimeoutException
        or SmtpProtocolException or SslHandshakeException or System.Security.Authentication.AuthenticationException
        or OperationCanceledException
        or ServiceNotConnectedException or ObjectDisposedException or InvalidOperationException or NotSupportedException;

    private static string Describe(Exception e) => e switch
    {
        SslHandshakeException => $"TLS handshake failed: {e.Message}",
        TimeoutException or OperationCanceledException => $"timed out: {e.Message}",
        _ => e.Message,
    };

    private static string DescribeTls(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => protocol.ToString(),
    };

    private static FormatOptions CreateExactFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        format.HiddenHeaders.Clear();
        format.International = false;
        format.EnsureNewLine = false;
        return format;
    }
}
