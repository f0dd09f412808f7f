using System.Net;
using MailCluster.Smtp;

namespace MailCluster.Edge.Session;

/// <summary>What the connection (<see cref="SmtpServerConnection"/>) does after writing a session's reply.</summary>
public enum SessionAction
{
    None,

    /// <summary>Switch the connection to reading DATA message text (after 354).</summary>
    ReadData,

    /// <summary>Read the BDAT chunk announced by the command, then report it (RFC 3030); no reply yet.</summary>
    ReadChunk,

    /// <summary>The next line is a SASL response (RFC 4954 §4), not a command.</summary>
    ReadAuthLine,

    /// <summary>Flush the reply, discard any buffered plaintext, then negotiate TLS (RFC 3207).</summary>
    StartTls,

    /// <summary>Flush the reply and close the connection.</summary>
    Close,

    /// <summary>Drop the message text read so far (BDAT chunks before LAST) and return its buffer to the pool: RSET,
    /// HELO or EHLO ended the transaction (RFC 5321 §4.1.1.5, §4.1.4).</summary>
    AbandonMessage,
}

/// <summary>Facts about the connection, fixed for its life.</summary>
public sealed record ConnectionInfo(string ConnectionId, IPEndPoint? Remote, SmtpListener Listener, string? TlsProtocol, string? TlsCipher);

public sealed record SessionStart;

public sealed record SessionCommand(SmtpCommand Command);

/// <summary>A command line that could not be read as a command: too long, or refused by the parser with
/// <paramref name="Error"/>. It counts as a bad command.</summary>
public sealed record SessionUnreadableCommand(SmtpReply Error);

/// <summary>A line of a SASL exchange; null when the line was too long.</summary>
public sealed record SessionAuthLine(string? Line);

/// <summary>TLS is now in place (after STARTTLS): the session resets (RFC 3207 §4.2).</summary>
public sealed record SessionTlsStarted(string Protocol, string Cipher);

/// <summary>A non-final BDAT chunk was read completely.</summary>
public sealed record SessionChunk(long Size);

/// <summary>The message text of a DATA or BDAT transaction (dot-unstuffed for DATA, without its terminator).
/// <paramref name="Buffer"/>, when set, holds <paramref name="Text"/>; the session owns it from now on.</summary>
public sealed record SessionData(
    ReadOnlyMemory<byte> Text, bool TooLarge, bool HasLongLine, bool HasNul, int ReceivedHeaders, bool HasBareLineEnding = false, MessageBuffer? Buffer = null);

/// <summary>
/// The finished message handed to the connection's <see cref="SmtpSessionActor"/>; the actor completes
/// <paramref name="Reply"/>. A completion source rather than an Ask: no temporary actor and no scheduler timer per
/// message (the connection bounds the wait itself).
/// </summary>
public sealed record SessionHandOff(SessionData Data, TaskCompletionSource<SessionReply> Reply);

public sealed record SessionReply(SmtpReply Reply, SessionAction Action = SessionAction.None);
