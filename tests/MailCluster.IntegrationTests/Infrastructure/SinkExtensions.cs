using MailCluster.Testing;

namespace MailCluster.IntegrationTests.Infrastructure;

public static class SinkExtensions
{
    /// <summary>Waits for a message to <paramref name="recipient"/>, whatever else the sink received before.</summary>
    public static async Task<ReceivedMessage> WaitForRecipientAsync(this ScriptedSmtpServer sink, string recipient, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var found = sink.Messages.FirstOrDefault(m => m.Recipients.Contains(recipient, StringComparer.OrdinalIgnoreCase));
            if (found is not null)
            {
                return found;
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException($"no message for <{recipient}> within {timeout}; received: "
            + string.Join(", ", sink.Messages.Select(m => string.Join('+', m.Recipients))));
    }
}
