using MailCluster.Queue.Delivery;

namespace MailCluster.Outbound.Tests;

/// <summary>
/// One message on a fresh connection, closed afterwards: what the domain queue's connection actor does for the first
/// message of a connection, without the actor. Only tests deliver this way (it was <c>IDeliverer</c> in src); the
/// contract is <see cref="IDeliveryConnector"/>'s and <see cref="IDeliveryConnection"/>'s: only cancellation throws,
/// every recipient gets exactly one outcome.
/// </summary>
internal sealed class OneMessageDeliverer(IDeliveryConnector connector)
{
    public async Task<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        var connect = await connector.ConnectAsync(request.Domain, cancellationToken);
        if (connect.Connection is not { } connection)
        {
            return DeliveryResult.ConnectFailed(connect.Failure!, request.Recipients);
        }

        await using (connection)
        {
            return await connection.SendAsync(request, cancellationToken);
        }
    }
}
