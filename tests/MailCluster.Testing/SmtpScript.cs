namespace MailCluster.Testing;

/// <summary>The points of an SMTP session at which <see cref="ScriptedSmtpServer.Responder"/> is asked for a reply.</summary>
public enum SmtpStage
{
    /// <summary>The greeting (RFC 5321 §4.3.1); default <c>220</c>.</summary>
    Connect,
    /// <summary>EHLO or HELO; default <c>250</c> (EHLO lists the extensions).</summary>
    Ehlo,
    /// <summary>MAIL FROM; default <c>250 2.1.0</c>.</summary>
    Mail,
    /// <summary>RCPT TO, once per recipient; default <c>250 2.1.5</c>.</summary>
    Rcpt,
    /// <summary>The DATA command; default <c>354</c>. Any other reply refuses the data.</summary>
    DataStart,
    /// <summary>After the terminating <c>CRLF.CRLF</c>; default <c>250 2.0.0</c>. A 2xx reply records the message.</summary>
    DataEnd,
    /// <summary>RSET; default <c>250 2.0.0</c>, which ends the open transaction (another reply leaves it open).</summary>
    Rset,
}

/// <summary>What the server knows when it asks the responder for a reply.</summary>
/// <param name="ConnectionId">1-based number of the TCP connection.</param>
/// <param name="Argument">The command argument as received (e.g. <c>FROM:&lt;a@b&gt; SIZE=10</c>); empty at Connect/DataStart/DataEnd.</param>
/// <param name="MailFrom">The reverse-path of the open transaction (without brackets), or null.</param>
/// <param name="Recipient">At <see cref="SmtpStage.Rcpt"/>: the forward-path without brackets; else null.</param>
/// <param name="Recipients">Recipients accepted so far in this transaction.</param>
/// <param name="DataEndAttempt">1-based count of DataEnd replies the server has given, this one included (all connections); 0 before DataEnd.</param>
/// <param name="Data">At <see cref="SmtpStage.DataEnd"/>: the unstuffed message bytes; else null.</param>
public sealed record ScriptContext(
    int ConnectionId,
    SmtpStage Stage,
    string Argument,
    string? MailFrom,
    string? Recipient,
    IReadOnlyList<string> Recipients,
    int DataEndAttempt,
    byte[]? Data);

/// <summary>One transaction the server accepted with a 2xx reply to the end of DATA.</summary>
/// <param name="Data">The exact message bytes after dot-unstuffing, without the terminating <c>.CRLF</c>
/// (the CRLF before it belongs to the message, RFC 5321 §4.1.1.4).</param>
public sealed record ReceivedMessage(
    int ConnectionId,
    string MailFrom,
    IReadOnlyList<string> Recipients,
    byte[] Data,
    DateTimeOffset ReceivedAt);
