using Microsoft.Extensions.Logging;

namespace MailCluster.Edge.Dkim;

internal static partial class DkimLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "DKIM signing with selector {Selector} of {Domain} failed; the message is accepted without this signature")]
    public static partial void SigningFailed(ILogger logger, Exception ex, string selector, string domain);
}
