using System.IO.Pipelines;
using System.Net;
using System.Text;
using Akka.Actor;
using MailCluster.Edge.Policy;
using MailCluster.Edge.Session;
using MailCluster.Queue.Acceptance;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailCluster.Edge.WarmUp;

/// <summary>
/// Synthetic SMTP sessions run once at start (issue 18, cold start): the node's own session code — the byte layer
/// (<see cref="SmtpServerConnection"/>), the parser, the state table, the session actor's spawn and hand-off, the
/// trace header — runs through whole transactions before the first client's, so that the runtime has compiled it and
/// begun to tier it up when the first real connections arrive.
/// <para>Nothing leaves the process and nothing is stored: the sessions talk over an in-memory pipe (no socket, no
/// listener slot), with a copy of the node's <see cref="EdgeServices"/> whose acceptor discards the message
/// (<see cref="DiscardingAcceptor"/>), whose relay policy accepts only <see cref="Domain"/>, whose metrics are
/// detached from the node's registry and whose mail log is silent. A session actor is spawned for each, as for a
/// client, and stopped when the session ends.</para>
/// </summary>
public static class SmtpWarmUp
{
    /// <summary>The recipient domain of the synthetic sessions (RFC 2606: never a real one).</summary>
    public const string Domain = "warm-up.invalid";

    /// <summary>Runs <paramref name="sessions"/> synthetic sessions of <paramref name="messagesPerSession"/> messages
    /// each, one after another, and returns the number of messages the sessions answered 250. A reply other than the
    /// expected one ends that session early (the warm-up is best effort; the caller logs the count).</summary>
    public static async Task<int> RunAsync(EdgeServices services, ActorSystem system, int sessions, int messagesPerSession, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(system);
        var isolated = Isolate(services);
        var listener = new SmtpListener("warm-up", 0, ListenerRole.Mx, ImplicitTls: false);
        var accepted = 0;
        for (var i = 0; i < sessions && !ct.IsCancellationRequested; i++)
        {
            accepted += await SessionAsync(isolated, system, listener, $"warm-up-{i}", messagesPerSession, ct).ConfigureAwait(false);
        }

        return accepted;
    }

    /// <summary>The node's services with every outward effect replaced: nothing stored, counted or logged.</summary>
    public static EdgeServices Isolate(EdgeServices services)
    {
        var domains = new DomainsOptions();
        domains.Relay.Add(Domain);
        return services with
        {
            Acceptor = new DiscardingAcceptor(),
            Policy = new RelayPolicy(domains, services.Smtp),
            Metrics = EdgeMetrics.Detached,
            MailLog = NullLogger.Instance,
            Dkim = null,
            OAuth = null,
            Quotas = null,
            Suppression = null,
            SuppressedRecipients = null,
        };
    }

    private static async Task<int> SessionAsync(EdgeServices services, ActorSystem system, SmtpListener listener, string id, int messages, CancellationToken ct)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var session = new SmtpSession(new ConnectionInfo(id, new IPEndPoint(IPAddress.Loopback, 0), listener, null, null), services);
        var actor = SmtpSessionActor.Spawn(system, session, id);
        var accepted = 0;
        try
        {
            var server = new SmtpServerConnection(new Duplex(toServer.Reader, toClient.Writer), session, actor, services, services.Metrics.For(listener.Role), ct);
            await using (server.ConfigureAwait(false))
            {
                var run = server.RunAsync("");
                var client = new WarmUpClient(toServer.Writer, toClient.Reader, ct);
                if (await client.ReplyAsync().ConfigureAwait(false) == 220
                    && await client.CommandAsync("EHLO warm-up.invalid").ConfigureAwait(false) == 250)
                {
                    for (var m = 0; m < messages && await TransactionAsync(client).ConfigureAwait(false); m++)
                    {
                        accepted++;
                    }

                    await client.CommandAsync("QUIT").ConfigureAwait(false);
                }

                await toServer.Writer.CompleteAsync().ConfigureAwait(false);
                await run.ConfigureAwait(false);
            }
        }
        finally
        {
            SmtpSessionActor.End(actor);
            await toClient.Reader.CompleteAsync().ConfigureAwait(false);
        }

        return accepted;
    }

    private static async Task<bool> TransactionAsync(WarmUpClient client) =>
        await client.CommandAsync("MAIL FROM:<start@warm-up.invalid> SIZE=1200").ConfigureAwait(false) == 250
        && await client.CommandAsync("RCPT TO:<node@warm-up.invalid>").ConfigureAwait(false) == 250
        && await client.CommandAsync("DATA").ConfigureAwait(false) == 354
        && await client.SendAsync(Message).ConfigureAwait(false) == 250;

    /// <summary>About 1 KB of headers and body lines, as a client's message.</summary>
    private static readonly byte[] Message = Encoding.ASCII.GetBytes(
        "From: <start@warm-up.invalid>\r\nTo: <node@warm-up.invalid>\r\nSubject: warm-up\r\nMessage-ID: <warm-up@warm-up.invalid>\r\n\r\n"
        + string.Concat(Enumerable.Repeat(new string('x', 76) + "\r\n", 13))
        + ".\r\n");

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>The warm-up's acceptor: answers Accepted and keeps nothing (the message is synthetic, see the class).
    /// Only the isolated copy of the services made by <see cref="Isolate"/> holds it. It answers a moment later, from a
    /// timer, as the node's acceptor answers once the durable write completes on another thread: the session's awaits
    /// on the acceptance then suspend and resume as they will for a client's message, so their continuations are
    /// compiled here too. An answer completed at once skipped them (so did <c>Task.Yield</c>: the session actor's task
    /// scheduler ran its continuation inline), and a fresh node's first real message compiled them.</summary>
    public sealed class DiscardingAcceptor : IMessageAcceptor
    {
        public async Task<AcceptResult> AcceptAsync(string messageId, string sender, IReadOnlyList<string> recipients, Queue.Protocol.DsnEnvelope? dsn, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
        {
            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            return new AcceptResult(AcceptOutcome.Accepted, messageId, null);
        }
    }
}
