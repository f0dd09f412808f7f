using System.Net;
using Microsoft.Extensions.Logging;

namespace MailCluster.Edge;

/// <summary>
/// The edge half of the mail log (issue 14; the delivery half is MailCluster.Queue.DeliveryLog): one Information
/// record per connection, AUTH result, accepted message and rejected command, with named properties (JSON console
/// formatter: <c>Logging__Console__FormatterName=json</c>). <c>Session</c> (the connection id) ties the records of one
/// connection together, <c>QueueId</c> an accepted message to its delivery records on any node. The AUTH failure record
/// names the client address for fail2ban (README). Source-generated: nothing is formatted when the level is off.
/// </summary>
public static partial class MailLog
{
    public const string Category = "MailCluster.MailLog";

    /// <summary>The client's address as the log names it: an IPv4 client of the dual-stack listeners as plain IPv4
    /// (not <c>::ffff:a.b.c.d</c>), so that one filter (fail2ban) matches it whatever socket it came in on.</summary>
    public static string ClientOf(IPEndPoint? remote) =>
        remote is null ? "unknown" : (remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address).ToString();

    [LoggerMessage(EventId = 1401, EventName = "SmtpConnection", Level = LogLevel.Information,
        Message = "connect from {Client} on {Listener} port {Port}, tls={Tls}, session={Session}")]
    public static partial void Connection(ILogger logger, string client, string listener, int port, string tls, string session);

    [LoggerMessage(EventId = 1402, EventName = "SmtpTlsStarted", Level = LogLevel.Information,
        Message = "STARTTLS from {Client}: {Tls} {Cipher}, session={Session}")]
    public static partial void TlsStarted(ILogger logger, string client, string tls, string cipher, string session);

    [LoggerMessage(EventId = 1403, EventName = "SmtpAuthSucceeded", Level = LogLevel.Information,
        Message = "AUTH succeeded: user={User}, mechanism={Mechanism}, client={Client}, session={Session}")]
    public static partial void AuthSucceeded(ILogger logger, string user, string mechanism, string client, string session);

    [LoggerMessage(EventId = 1404, EventName = "SmtpAuthFailed", Level = LogLevel.Information,
        Message = "AUTH failed: user={User}, mechanism={Mechanism}, client={Client}, session={Session}")]
    public static partial void AuthFailed(ILogger logger, string user, string mechanism, string client, string session);

    [LoggerMessage(EventId = 1405, EventName = "SmtpAccepted", Level = LogLevel.Information,
        Message = "{QueueId}: accepted from=<{Sender}>, size={Size}, nrcpt={Recipients}, message-id={MessageId}, client={Client}, user={User}, session={Session}")]
    public static partial void Accepted(ILogger logger, string queueId, string sender, long size, int recipients, string messageId, string client,
        string user, string session);

    [LoggerMessage(EventId = 1406, EventName = "SmtpRejected", Level = LogLevel.Information,
        Message = "reject: {Command} from {Client}: {Code} {Dsn} {Reason}; from=<{Sender}>, to=<{Recipient}>, session={Session}")]
    public static partial void Rejected(ILogger logger, string command, string client, int code, string dsn, string reason, string sender,
        string recipient, string session);
}
