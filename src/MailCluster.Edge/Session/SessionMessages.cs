using System.Net;
using MailCluster.Smtp;

namespace MailCluster.Edge.Session;

/// <summary>What the connection handler does after writing a reply.</summary>
public enum SessionAction
{
    None,

    /// <summary>Switch the connection to reading message text (after 354).</summary>
    ReadData,

    /// <summary>Flush and close the connection.</summary>
    Close,
}

/// <summary>Facts about the connection, fixed for its life.</summary>
public sealed record ConnectionInfo(string ConnectionId, IPEndPoint? Remote, SmtpListener Listener, string? TlsProtocol, string? TlsCipher);

public sealed record SessionStart;

public sealed record SessionCommand(SmtpCommand Command);

/// <summary>The message text of a DATA transaction, dot-unstuffed, without its terminator.</summary>
public sealed record SessionData(ReadOnlyMemory<byte> Text, bool TooLarge, bool HasLongLine, bool HasNul, int ReceivedHeaders);

public sealed record SessionReply(SmtpReply Reply, SessionAction Action = SessionAction.None);
