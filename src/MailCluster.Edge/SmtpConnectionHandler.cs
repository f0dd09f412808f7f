using System.Net;
using Akka.Actor;
using MailCluster.Edge.Session;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace MailCluster.Edge;

/// <summary>
/// Kestrel's entry point for one SMTP listener: admits the connection (node and per-client limits), spawns
/// its <see cref="SmtpSessionActor"/> (which then owns the session's lifetime and its acceptance hand-off) and runs
/// the <see cref="SmtpServerConnection"/> until either side closes.
/// </summary>
public sealed partial class SmtpConnectionHandler(SmtpListener listener, EdgeServices services, ActorSystem system, ILogger<SmtpConnectionHandler> logger)
    : ConnectionHandler
{
    private readonly ListenerMetrics _metrics = services.Metrics.For(listener.Role);

    /// <summary>Set on a connection that reached the handler: on the implicit-TLS listener, the handshake succeeded.</summary>
    private const string ReachedHandler = "mailcluster.reached-handler";

    public SmtpListener Listener => listener;

    /// <summary>Kestrel connection middleware to install before <c>UseHttps</c> on the implicit-TLS listener: a
    /// connection whose handshake fails never reaches the handler (Kestrel closes it), so the failure is counted on
    /// the way out.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> CountFailedImplicitTls(ListenerMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return next => async connection =>
        {
            await next(connection).ConfigureAwait(false);
            if (!connection.Items.ContainsKey(ReachedHandler))
            {
                metrics.TlsFailed.Inc();
            }
        };
    }

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var remote = connection.RemoteEndPoint as IPEndPoint;
        using var lease = services.Limiter.TryAcquire(remote?.Address, out var refusal, out var refusalReason);
        var tls = connection.Features.Get<ITlsHandshakeFeature>();
        if (tls is not null)
        {
            _metrics.TlsSucceeded.Inc(); // implicit TLS: Kestrel completed the handshake before handing the connection over
            connection.Items[ReachedHandler] = null;
        }

        if (refusalReason is { } reason)
        {
            _metrics.Refused(reason).Inc();
        }
        var info = new ConnectionInfo(
            connection.ConnectionId,
            remote,
            listener,
            tls is null ? null : TlsNames.Protocol(tls.Protocol),
            tls?.NegotiatedCipherSuite?.ToString());
        if (services.MailLog.IsEnabled(LogLevel.Information))
        {
            // The client's address is formatted only for the record (a new string per connection otherwise).
            var client = MailLog.ClientOf(remote);
            MailLog.Connection(services.MailLog, client, listener.Name, listener.Port, info.TlsProtocol ?? "none", connection.ConnectionId);
        }

        var session = new SmtpSession(info, services);
        var actor = lease is null ? ActorRefs.Nobody : SmtpSessionActor.Spawn(system, session, connection.ConnectionId);
        try
        {
            var smtp = new SmtpServerConnection(connection.Transport, session, actor, services, _metrics, connection.ConnectionClosed);
            await using (smtp.ConfigureAwait(false))
            {
                await smtp.RunAsync(refusal ?? "").ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or OperationCanceledException or ObjectDisposedException
            or InvalidOperationException or TimeoutException)
        {
            LogConnectionEnded(logger, connection.ConnectionId, ex.Message);
        }
        finally
        {
            SmtpSessionActor.End(actor);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} ended: {Reason}")]
    private static partial void LogConnectionEnded(ILogger logger, string connectionId, string reason);
}
