using Microsoft.Extensions.Logging;

namespace MailCluster.Queue.Spool;

internal static partial class SpoolLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Warning, Message = "Spool batch of {Count} operations failed; every caller in it was faulted and nothing was applied")]
    public static partial void BatchFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Spool batch of {Count} operations hit {SqlState}; retrying (attempt {Attempt})")]
    public static partial void BatchRetry(ILogger logger, int count, string sqlState, int attempt);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Debug, Message = "DeleteUncommitted left {MessageId} alone: it is committed or already gone")]
    public static partial void DeleteOfCommittedIgnored(ILogger logger, string messageId);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Spool body file {Name} could not be deleted after its row was; the orphan sweep will delete it")]
    public static partial void BodyFileNotDeleted(ILogger logger, Exception exception, string name);
}
