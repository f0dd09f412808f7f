using MailCluster.Queue.Contracts;
using Microsoft.Extensions.Logging;

namespace MailCluster.Queue.Suppression;

/// <summary>
/// The stand-in <see cref="ISuppressedRecipients"/> when no delivery-events implementation is registered: one mail-log
/// record (category <see cref="DeliveryLog.Category"/>, event <c>SuppressedRecipient</c>) per refused recipient.
/// </summary>
public sealed partial class MailLogSuppressedRecipients(ILoggerFactory loggers) : ISuppressedRecipients
{
    private readonly ILogger _log = loggers.CreateLogger(DeliveryLog.Category);

    public ValueTask RecordAsync(SuppressedRecipient refused, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(refused);
        LogSuppressed(_log, refused.Recipient, refused.Sender, refused.Credential ?? "none", refused.Reason);
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 1401, EventName = "SuppressedRecipient", Level = LogLevel.Information,
        Message = "to=<{Recipient}>, from=<{Sender}>, credential={Credential}, status=suppressed ({Reason})")]
    private static partial void LogSuppressed(ILogger logger, string recipient, string sender, string credential, string reason);
}
