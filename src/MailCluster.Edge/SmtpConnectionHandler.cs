using System.Net;
using Akka.Actor;
using MailCluster.Edge.Session;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace MailCluster.Edge;

/// <summary>
/// Kestrel's entry point for one SMTP listener: admits the connection (node and per-client limits), starts
/// its <see cref="SmtpSessionActor"/> and runs the <see cref="SmtpConnection"/> until either side closes.
/// </summary>
public sealed partial class SmtpConnectionHandler(SmtpListener listener, EdgeServices services, ActorSystem system, ILogger<SmtpConnectionHandler> logger)
    : ConnectionHandler
{
    public SmtpListener Listener => listener;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var remote = connection.RemoteEndPoint as IPEndPoint;
        using var lease = services.Limiter.TryAcquire(remote?.Address, out var refusal);
        var tls = connection.Features.Get<ITlsHandshakeFeature>();
        var info = new ConnectionInfo(
            connection.ConnectionId,
            remote,
            listener,
            tls is null ? null : TlsNames.Protocol(tls.Protocol),
            tls?.NegotiatedCipherSuite?.ToString());
        var session = new SmtpSession(info, services);
        var actor = lease is null ? ActorRefs.Nobody : system.ActorOf(SmtpSessionActor.Props(session), "smtp-" + connection.ConnectionId);
        try
        {
            var smtp = new SmtpConnection(connection.Transport, session, actor, services, connection.ConnectionClosed);
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
            actor.Tell(PoisonPill.Instance);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} ended: {Reason}")]
    private static partial void LogConnectionEnded(ILogger logger, string connectionId, string reason);
}
