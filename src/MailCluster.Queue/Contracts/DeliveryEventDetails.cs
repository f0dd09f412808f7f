namespace MailCluster.Queue.Contracts;

/// <summary>
/// Registered by the delivery-events feature when it is on (issue 16): the acceptance and the domain queues then record
/// each reception's and each attempt's details in the journal, inside the event they describe (<c>Enqueued.Details</c>,
/// <c>AttemptCompleted.Details</c>). Without it (events off, or a node without the feature) nothing is recorded and the
/// rows keep their first shape: the details would cost journal bytes that nothing reads.
/// </summary>
public sealed class DeliveryEventDetails
{
    public static readonly DeliveryEventDetails On = new();

    private DeliveryEventDetails()
    {
    }
}
