using System.Buffers;
using System.Text;
using MailCluster.Edge.Session;
using MailCluster.Smtp;

namespace MailCluster.Edge;

/// <summary>The synchronous half of <see cref="SmtpServerConnection"/>: turn buffered bytes into the next step (a line,
/// DATA text or a BDAT chunk for the session, or a framing error), and follow the session's answer.</summary>
internal sealed partial class SmtpServerConnection
{
    private enum StepKind
    {
        NeedMore,
        Write,
        WriteAndClose,
        Ask,
    }

    /// <param name="Chunk">Set when <paramref name="Message"/> carries a BDAT command: its chunk follows on the wire
    /// and is read whatever the session answers (RFC 3030 §2), the one command whose framing the connection knows.</param>
    private readonly record struct Step(StepKind Kind, object? Message = null, SmtpReply Reply = default, BdatCommand? Chunk = null)
    {
        public static Step NeedMore => new(StepKind.NeedMore);
    }

    /// <summary>
    /// The longest line read in command mode. RFC 4954 §4 lets an AUTH command line, with its initial response, reach
    /// 12288 octets, and clients do send OAuth2 tokens there (a JWT in XOAUTH2 is often longer than 2048 characters);
    /// every other command is still held to <see cref="SmtpOptions.MaxCommandLineLength"/> once read.
    /// </summary>
    private static int CommandLineLimit(SmtpOptions smtp) => Math.Max(smtp.MaxCommandLineLength, Auth.SaslMechanisms.MaxResponseLength);

    private static bool IsAuthCommand(ReadOnlySequence<byte> line)
    {
        Span<byte> verb = stackalloc byte[5];
        line.Slice(0, 5).CopyTo(verb);
        return Ascii.EqualsIgnoreCase(verb, "AUTH "u8);
    }

    private Step ReadLine(ref ReadOnlySequence<byte> buffer)
    {
        var status = _lines.TryRead(ref buffer, out var line);
        switch (status)
        {
            case LineStatus.NeedMore:
                return Step.NeedMore;
            case LineStatus.BareLineEnding:
                // RFC 5321 §2.3.8: only CRLF ends a line. Accepting bare CR or LF enables SMTP smuggling
                // (CVE-2023-51764 class), so the session ends, as Postfix does with smtpd_forbid_bare_newline.
                return new Step(StepKind.WriteAndClose, Reply: SmtpReplies.BareLineEnding);
            case LineStatus.TooLong when _mode == Mode.AuthLine:
                _mode = Mode.Command;
                _lines.MaxLength = CommandLineLimit(services.Smtp);
                return new Step(StepKind.Ask, new SessionAuthLine(null));
            case LineStatus.TooLong:
                return new Step(StepKind.Ask, new SessionUnreadableCommand(SmtpReplies.LineTooLong));
        }

        if (_mode == Mode.AuthLine)
        {
            _mode = Mode.Command;
            _lines.MaxLength = CommandLineLimit(services.Smtp);
            return new Step(StepKind.Ask, new SessionAuthLine(Encoding.ASCII.GetString(line)));
        }

        if (services.Shutdown.IsCancellationRequested)
        {
            return new Step(StepKind.WriteAndClose, Reply: SmtpReplies.ShuttingDown(services.Hostname));
        }

        if (line.Length > services.Smtp.MaxCommandLineLength && !IsAuthCommand(line))
        {
            return new Step(StepKind.Ask, new SessionUnreadableCommand(SmtpReplies.LineTooLong));
        }

        var parsed = SmtpCommandParser.Parse(line);
        return parsed.Command is { } command
            ? new Step(StepKind.Ask, new SessionCommand(command), Chunk: command as BdatCommand)
            : new Step(StepKind.Ask, new SessionUnreadableCommand(parsed.Error!.Value));
    }

    private Step ReadData(ref ReadOnlySequence<byte> buffer)
    {
        var status = _data!.Read(ref buffer, _text!);
        if (status == DataStatus.NeedMore)
        {
            return Step.NeedMore;
        }

        if (status == DataStatus.BareLineEnding)
        {
            return new Step(StepKind.WriteAndClose, Reply: SmtpReplies.BareLineEnding);
        }

        var message = new SessionData(_text!.Written, _data.IsTooLarge, _data.HasLongLine, _data.HasNul, _data.ReceivedHeaderCount, Buffer: _text);
        _mode = Mode.Command;
        EndMessage();
        return new Step(StepKind.Ask, message);
    }

    private Step ReadChunk(ref ReadOnlySequence<byte> buffer)
    {
        if (!_chunkReader!.Read(ref buffer, _chunkRefusal is null ? _text! : DiscardWriter.Instance))
        {
            return Step.NeedMore;
        }

        _mode = Mode.Command;
        _chunkReader = null;
        if (_chunkRefusal is { } refusal)
        {
            _chunkRefusal = null;
            return new Step(StepKind.Write, Reply: refusal);
        }

        if (!_bdat!.IsLast)
        {
            return new Step(StepKind.Ask, new SessionChunk(_bdat.Size));
        }

        var text = _text!.Written;
        var message = new SessionData(
            text, _bdat.IsTooLarge, HasLongLine: false, _bdat.HasNul, HeaderScan.CountReceived(text.Span), _bdat.HasBareLineEnding, _text);
        EndMessage();
        return new Step(StepKind.Ask, message);
    }

    private Next Write(SmtpReply reply, bool close)
    {
        Send(reply);
        return close ? Next.Close : Next.ReadMore;
    }

    /// <summary>Writes the session's reply and follows its action; decides nothing about the conversation.</summary>
    private Next OnSessionReply(Step step, SessionReply reply)
    {
        if (step.Chunk is { } bdat)
        {
            return BeginChunk(bdat, reply);
        }

        Send(reply.Reply);
        switch (reply.Action)
        {
            case SessionAction.ReadData:
                _mode = Mode.Data;
                _data = new DataReader(services.Smtp.MaxMessageSize);
                _text = new MessageBuffer(session.DeclaredSize);
                _transferStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                return Next.ReadMore;
            case SessionAction.ReadAuthLine:
                // RFC 4954 §4: a SASL response line may be longer than a command line.
                _mode = Mode.AuthLine;
                _lines.MaxLength = Math.Max(services.Smtp.MaxCommandLineLength, Auth.SaslMechanisms.MaxResponseLength);
                return Next.ReadMore;
            case SessionAction.StartTls:
                return Next.StartTls;
            case SessionAction.Close:
                return Next.Close;
            case SessionAction.AbandonMessage:
                AbandonMessage();
                return Next.ReadMore;
            default:
                return Next.ReadMore;
        }
    }

    /// <summary>RFC 3030 §2: the chunk's octets are read even when the command is refused.</summary>
    private Next BeginChunk(BdatCommand command, SessionReply reply)
    {
        if (reply.Action != SessionAction.ReadChunk)
        {
            _chunkRefusal = reply.Reply;
            _chunkReader = new BdatReader(0);
        }
        else
        {
            if (_bdat is null || _text is null)
            {
                _bdat = new BdatReader(services.Smtp.MaxMessageSize);
                _text = new MessageBuffer(session.DeclaredSize);
                _transferStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            }

            _chunkReader = _bdat;
        }

        _chunkReader.BeginChunk(command.Size, command.Last);
        _mode = Mode.Chunk;
        return Next.ReadMore;
    }

    /// <summary>The message was handed to the session, which now owns its buffer.</summary>
    private void EndMessage()
    {
        _data = null;
        _bdat = null;
        _text = null;
    }

    /// <summary>A message in progress is dropped (RSET, EHLO, end of connection): its buffer goes back to the pool.</summary>
    private void AbandonMessage()
    {
        _text?.Release();
        EndMessage();
    }

    /// <summary>Swallows the octets of a refused BDAT chunk.</summary>
    private sealed class DiscardWriter : IBufferWriter<byte>
    {
        public static readonly DiscardWriter Instance = new();
        private readonly byte[] _scratch = new byte[8192];

        public void Advance(int count)
        {
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => _scratch.Length >= sizeHint ? _scratch : new byte[sizeHint];

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }
}
