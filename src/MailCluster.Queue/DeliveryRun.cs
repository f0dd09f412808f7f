using MailCluster.Queue.Delivery;
using MailCluster.Queue.Spool;
using MailCluster.Queue.State;

namespace MailCluster.Queue;

/// <summary>The result of one delivery run, sent back to the domain queue (local only, never persisted).</summary>
internal sealed record DeliveryFinished(string MessageId, SpoolStatus Spool, DeliveryResult? Result, Exception? Error);

/// <summary>One delivery run off the actor thread: read the body, deliver only if committed.</summary>
internal static class DeliveryRun
{
    public static async Task<DeliveryFinished> Start(QueueServices services, string domain, QueuedMessage message, IReadOnlyList<string> recipients)
    {
        try
        {
            var entry = await services.Spool.ReadAsync(message.MessageId, CancellationToken.None).ConfigureAwait(false);
            if (entry.Status != SpoolStatus.Committed)
            {
                return new DeliveryFinished(message.MessageId, entry.Status, null, null);
            }

            var request = new DeliveryRequest(domain, message.MessageId, message.Sender, recipients, entry.Body);
            var result = await services.Deliverer.DeliverAsync(request, CancellationToken.None).ConfigureAwait(false);
            return new DeliveryFinished(message.MessageId, SpoolStatus.Committed, result, null);
        }
#pragma warning disable CA1031 // The contract of IDeliverer is not to throw; anything that does is retried, not allowed to kill the entity.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new DeliveryFinished(message.MessageId, SpoolStatus.Committed, null, ex);
        }
    }
}
