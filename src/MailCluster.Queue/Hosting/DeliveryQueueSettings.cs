using MailCluster.Queue.Buckets;

namespace MailCluster.Queue;

/// <summary>What the delivery-queue feature takes from the node's validated configuration.</summary>
/// <param name="Buckets">Hot domains split over several entities (<c>MailCluster:Queue:Buckets</c>).</param>
/// <param name="ReportingMta">This node's name in DSNs (Reporting-MTA, MAILER-DAEMON@).</param>
/// <param name="Roles">This node's cluster roles: domain queues run on <see cref="Role"/> nodes; the others reach
/// them through a proxy of the region.</param>
public sealed record DeliveryQueueSettings(
    QueueOptions Queue,
    RetryOptions Retry,
    DomainBuckets Buckets,
    string ReportingMta,
    IReadOnlyCollection<string> Roles)
{
    /// <summary>The cluster role whose nodes host the domain queues and the orphan sweep.</summary>
    public const string Role = "delivery";

    public bool RunsQueues => Roles.Contains(Role);
}
