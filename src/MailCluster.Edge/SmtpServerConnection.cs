using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using Akka.Actor;
using MailCluster.Edge.Session;
using MailCluster.Edge.Tls;
using MailCluster.Smtp;

namespace MailCluster.Edge;

/// <summary>
/// The server side of one SMTP connection, the byte layer: reads command lines, SASL lines, DATA text and BDAT chunks
/// from the transport, asks the <see cref="SmtpSession"/> what to answer (inline; a finished message through the
/// <see cref="SmtpSessionActor"/>), writes the replies and runs TLS. It frames and nothing more: which command is
/// legal, what counts as a bad command and when a message is abandoned are the session's rules, told here as a
/// <see cref="SessionReply"/> and its <see cref="SessionAction"/>. What it answers on its own is about the transport
/// and the connection's lifetime: bare line endings (521), shutdown and idle timeout (421), too slow a transfer (421),
/// the greeting refusals (421, 554).
/// Replies to pipelined commands (RFC 2920) are flushed once the input holds no further complete command.
/// Nothing is buffered without bound: lines are capped by <see cref="SmtpLineReader"/>, message text by
/// <see cref="DataReader"/>/<see cref="BdatReader"/> and the configured message size.
/// </summary>
internal sealed partial class SmtpServerConnection(
    IDuplexPipe transport, SmtpSession session, IActorRef sessionActor, EdgeServices services, ListenerMetrics metrics, CancellationToken closed)
    : IAsyncDisposable
{
    private static readonly TimeSpan HandOffTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);

    private readonly SmtpLineReader _lines = new(CommandLineLimit(services.Smtp));
    private PipeReader _input = transport.Input;
    private PipeWriter _output = transport.Output;
    private SslStream? _tls;
    private Mode _mode = Mode.Command;
    private DataReader? _data;
    private BdatReader? _bdat;
    private BdatReader? _chunkReader;
    private MessageBuffer? _text;
    private SmtpReply? _chunkRefusal;
    private long _transferStarted;

    // One linked token source per kind of read, reused (TryReset) for every read of the connection rather than one
    // allocated, linked and timed per read: reads happen per command line and per segment of message text.
    private CancellationTokenSource? _commandTimeout;
    private CancellationTokenSource? _textTimeout;

    private enum Mode
    {
        Command,
        AuthLine,
        Data,
        Chunk,
    }

    private enum Next
    {
        ReadMore,
        Close,
        StartTls,
    }

    public async ValueTask DisposeAsync()
    {
        AbandonMessage();
        _commandTimeout?.Dispose();
        _textTimeout?.Dispose();
        if (_tls is not null)
        {
            await _tls.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async Task RunAsync(string greetingRefusal)
    {
        if (services.Shutdown.IsCancellationRequested)
        {
            // Draining: the listener still accepts so that clients get a clear answer and try another MX.
            metrics.Refused(ConnectionRefusalReason.Draining).Inc();
            await WriteAndFlushAsync(SmtpReplies.ShuttingDown(services.Hostname)).ConfigureAwait(false);
            return;
        }

        if (!string.IsNullOrEmpty(greetingRefusal))
        {
            await WriteAndFlushAsync(new SmtpReply(421, "4.7.0", $"{services.Hostname} {greetingRefusal}")).ConfigureAwait(false);
            return;
        }

        if (await TalksBeforeGreetingAsync().ConfigureAwait(false))
        {
            metrics.Refused(ConnectionRefusalReason.EarlyTalker).Inc();
            await WriteAndFlushAsync(new SmtpReply(554, "5.5.1", "Protocol error: talking before the greeting")).ConfigureAwait(false);
            return;
        }

        metrics.Connections.Inc();

        var greeting = await AskAsync(new SessionStart()).ConfigureAwait(false);
        await WriteAndFlushAsync(greeting.Reply).ConfigureAwait(false);
        await LoopAsync().ConfigureAwait(false);
    }

    private async Task LoopAsync()
    {
        var idle = TimeSpan.FromSeconds(services.Smtp.IdleTimeoutSeconds);
        while (true)
        {
            ReadResult read;

            // Shutdown interrupts a session waiting for a command; message text in flight may finish.
            var interruptible = _mode is Mode.Command or Mode.AuthLine;
            var timeout = ReadTimeout(interruptible);
            timeout.CancelAfter(idle);
            try
            {
                read = await _input.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!closed.IsCancellationRequested)
            {
                await WriteAndFlushAsync(services.Shutdown.IsCancellationRequested
                    ? SmtpReplies.ShuttingDown(services.Hostname)
                    : SmtpReplies.Timeout).ConfigureAwait(false);
                return;
            }

            // Not cancelled (else the catch returned): stop its timer so it can serve the next read.
            if (!timeout.TryReset())
            {
                ForgetReadTimeout(interruptible);
            }

            var buffer = read.Buffer;
            var next = Next.ReadMore;
            while (next == Next.ReadMore)
            {
                var step = _mode switch
                {
                    Mode.Data => ReadData(ref buffer),
                    Mode.Chunk => ReadChunk(ref buffer),
                    _ => ReadLine(ref buffer),
                };
                if (step.Kind == StepKind.NeedMore)
                {
                    break;
                }

                next = step.Kind == StepKind.Ask
                    ? OnSessionReply(step, await AskAsync(step.Message!).ConfigureAwait(false))
                    : Write(step.Reply, step.Kind == StepKind.WriteAndClose);
            }

            if (next == Next.StartTls)
            {
                // CVE-2011-0411: plaintext pipelined after STARTTLS is discarded, never read as a command.
                _input.AdvanceTo(buffer.End);
                await _output.FlushAsync(closed).ConfigureAwait(false);
                if (!await UpgradeAsync().ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
            await _output.FlushAsync(closed).ConfigureAwait(false);
            if (next == Next.Close || read.IsCompleted)
            {
                return;
            }

            if (TooSlow())
            {
                await WriteAndFlushAsync(new SmtpReply(421, "4.4.2", "Data rate too low, closing connection")).ConfigureAwait(false);
                return;
            }
        }
    }

    private async Task<bool> TalksBeforeGreetingAsync()
    {
        if (services.Smtp.GreetingDelayMilliseconds > 0)
        {
            await Task.Delay(services.Smtp.GreetingDelayMilliseconds, closed).ConfigureAwait(false);
        }

        if (!_input.TryRead(out var early))
        {
            return false;
        }

        var talked = !early.Buffer.IsEmpty;
        _input.AdvanceTo(early.Buffer.Start, early.Buffer.End);
        return talked;
    }

    private async Task<bool> UpgradeAsync()
    {
        var stream = new DuplexPipeStream(transport);
        _tls = new SslStream(stream, leaveInnerStreamOpen: false);
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(closed);
        handshake.CancelAfter(HandshakeTimeout);
        var options = new SslServerAuthenticationOptions { ServerCertificate = services.Certificates.Current, ClientCertificateRequired = false };
        TlsCipherProfiles.Apply(options, services.Smtp.CipherProfile);
        try
        {
            await _tls.AuthenticateAsServerAsync(options, handshake.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
        {
            metrics.TlsFailed.Inc();
            return false;
        }

        metrics.TlsSucceeded.Inc();
        _input = PipeReader.Create(_tls, new StreamPipeReaderOptions(leaveOpen: true));
        _output = PipeWriter.Create(_tls, new StreamPipeWriterOptions(leaveOpen: true));
        _lines.Reset();
        await AskAsync(new SessionTlsStarted(TlsNames.Protocol(_tls.SslProtocol), _tls.NegotiatedCipherSuite.ToString())).ConfigureAwait(false);
        return true;
    }

    /// <summary>The read's timeout source: linked to the connection and to shutdown (between commands) or to the
    /// drain deadline (message text in flight may finish).</summary>
    private CancellationTokenSource ReadTimeout(bool interruptible) => interruptible
        ? _commandTimeout ??= CancellationTokenSource.CreateLinkedTokenSource(closed, services.Shutdown)
        : _textTimeout ??= CancellationTokenSource.CreateLinkedTokenSource(closed, services.DrainDeadline);

    private void ForgetReadTimeout(bool interruptible)
    {
        ref var source = ref interruptible ? ref _commandTimeout : ref _textTimeout;
        source?.Dispose();
        source = null;
    }

    private bool TooSlow()
    {
        if (_mode is not (Mode.Data or Mode.Chunk))
        {
            return false;
        }

        var elapsed = TimeSpanSince(_transferStarted);
        var size = _mode == Mode.Data ? _data!.Size : _chunkReader?.Size ?? 0;
        return elapsed.TotalSeconds > services.Smtp.DataRateGraceSeconds
            && size / elapsed.TotalSeconds < services.Smtp.MinDataRateBytesPerSecond;
    }

    private static TimeSpan TimeSpanSince(long timestamp) => System.Diagnostics.Stopwatch.GetElapsedTime(timestamp);

    /// <summary>The session's answer: inline for commands, through the actor for a finished message.</summary>
    private ValueTask<SessionReply> AskAsync(object message)
    {
        if (message is not SessionData data)
        {
            return session.HandleAsync(message);
        }

        metrics.BytesReceived.Inc(data.Text.Length);

        // Asynchronous continuations: the connection must not resume on the actor's thread, inside its message.
        var handOff = new SessionHandOff(data, new TaskCompletionSource<SessionReply>(TaskCreationOptions.RunContinuationsAsynchronously));
        sessionActor.Tell(handOff);
        return new ValueTask<SessionReply>(handOff.Reply.Task.WaitAsync(HandOffTimeout, closed));
    }

    private async Task WriteAndFlushAsync(SmtpReply reply)
    {
        Send(reply);
        await _output.FlushAsync(closed).ConfigureAwait(false);
    }

    /// <summary>Every reply goes out through here, so that each 4xx/5xx is counted once.</summary>
    private void Send(in SmtpReply reply)
    {
        metrics.OnReply(reply);
        reply.WriteTo(_output);
    }
}
