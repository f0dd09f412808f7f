using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Akka.Actor;
using MailCluster.Edge.Session;
using MailCluster.Smtp;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace MailCluster.Edge;

/// <summary>
/// The byte side of one SMTP listener: reads command lines and message text from Kestrel's pipe, hands
/// them to the connection's <see cref="SmtpSessionActor"/>, and writes its replies. Replies to pipelined
/// commands (RFC 2920) are buffered and flushed once the input holds no further complete command, so a
/// pipelining client gets one write per batch. Nothing here buffers without bound: command lines are
/// capped by <see cref="SmtpLineReader"/>, message text by <see cref="DataReader"/>.
/// </summary>
public sealed partial class SmtpConnectionHandler(SmtpListener listener, EdgeServices services, ActorSystem system, ILogger<SmtpConnectionHandler> logger)
    : ConnectionHandler
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromMinutes(2);

    public SmtpListener Listener => listener;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var tls = connection.Features.Get<ITlsHandshakeFeature>();
        var info = new ConnectionInfo(
            connection.ConnectionId,
            connection.RemoteEndPoint as IPEndPoint,
            listener,
            tls is null ? null : TlsNames.Protocol(tls.Protocol),
            tls?.NegotiatedCipherSuite?.ToString());
        var session = system.ActorOf(SmtpSessionActor.Props(info, services), "smtp-" + connection.ConnectionId);
        try
        {
            await RunAsync(connection.Transport, session, connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or OperationCanceledException or ObjectDisposedException)
        {
            LogConnectionEnded(logger, connection.ConnectionId, ex.Message);
        }
        finally
        {
            session.Tell(PoisonPill.Instance);
        }
    }

    private async Task RunAsync(IDuplexPipe transport, IActorRef session, CancellationToken closed)
    {
        var input = transport.Input;
        var output = transport.Output;
        var greeting = await session.Ask<SessionReply>(new SessionStart(), AskTimeout, closed).ConfigureAwait(false);
        greeting.Reply.WriteTo(output);
        await output.FlushAsync(closed).ConfigureAwait(false);

        var lines = new SmtpLineReader(services.Smtp.MaxCommandLineLength);
        DataReader? data = null;
        ArrayBufferWriter<byte>? text = null;
        var badCommands = 0;
        var idle = TimeSpan.FromSeconds(services.Smtp.IdleTimeoutSeconds);
        while (true)
        {
            ReadResult read;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(closed))
            {
                timeout.CancelAfter(idle);
                try
                {
                    read = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!closed.IsCancellationRequested)
                {
                    new SmtpReply(421, "4.4.2", $"{services.Hostname} Timeout exceeded, closing connection").WriteTo(output);
                    await output.FlushAsync(closed).ConfigureAwait(false);
                    return;
                }
            }

            var buffer = read.Buffer;
            var close = false;
            while (!close)
            {
                if (data is not null)
                {
                    var status = data.Read(ref buffer, text!);
                    if (status == DataStatus.NeedMore)
                    {
                        break;
                    }

                    if (status == DataStatus.BareLineEnding)
                    {
                        BareLineEnding().WriteTo(output);
                        close = true;
                        break;
                    }

                    var message = new SessionData(text!.WrittenMemory, data.IsTooLarge, data.HasLongLine, data.HasNul, data.ReceivedHeaderCount);
                    data = null;
                    text = null;
                    var accepted = await session.Ask<SessionReply>(message, AskTimeout, closed).ConfigureAwait(false);
                    accepted.Reply.WriteTo(output);
                    continue;
                }

                var lineStatus = lines.TryRead(ref buffer, out var line);
                if (lineStatus == LineStatus.NeedMore)
                {
                    break;
                }

                if (lineStatus == LineStatus.BareLineEnding)
                {
                    BareLineEnding().WriteTo(output);
                    close = true;
                    break;
                }

                SessionReply reply;
                if (lineStatus == LineStatus.TooLong)
                {
                    reply = new SessionReply(new SmtpReply(500, "5.5.6", "Line too long"));
                }
                else
                {
                    var parsed = SmtpCommandParser.Parse(line);
                    reply = parsed.Command is { } command
                        ? await session.Ask<SessionReply>(new SessionCommand(command), AskTimeout, closed).ConfigureAwait(false)
                        : new SessionReply(parsed.Error!.Value);
                }

                if (reply.Reply.Code is 500 or 501 or 502 or 503 or 555 && ++badCommands > services.Smtp.MaxBadCommands)
                {
                    reply = new SessionReply(new SmtpReply(421, "4.7.0", "Too many errors, closing connection"), SessionAction.Close);
                }

                reply.Reply.WriteTo(output);
                if (reply.Action == SessionAction.ReadData)
                {
                    data = new DataReader(services.Smtp.MaxMessageSize);
                    text = new ArrayBufferWriter<byte>(16 * 1024);
                }
                else if (reply.Action == SessionAction.Close)
                {
                    close = true;
                }
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            await output.FlushAsync(closed).ConfigureAwait(false);
            if (close || read.IsCompleted)
            {
                return;
            }
        }
    }

    // RFC 5321 §2.3.8: only CRLF ends a line. Accepting bare CR or LF enables SMTP smuggling
    // (CVE-2023-51764 class), so the session is ended, as Postfix does with smtpd_forbid_bare_newline.
    private static SmtpReply BareLineEnding() => new(521, "5.5.2", "Bare <CR> or <LF> received, closing connection");

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} ended: {Reason}")]
    private static partial void LogConnectionEnded(ILogger logger, string connectionId, string reason);
}
