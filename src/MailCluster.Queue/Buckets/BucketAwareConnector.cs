using MailCluster.Queue.Delivery;

namespace MailCluster.Queue.Buckets;

/// <summary>A bucket entity (<c>gmail.com#2</c>) delivers to its domain's route (<c>gmail.com</c>). Shaping applies
/// per entity, so a domain split into N buckets may open N times its connection limit.</summary>
public sealed class BucketAwareConnector(IDeliveryConnector inner) : IDeliveryConnector
{
    public Task<ConnectResult> ConnectAsync(string domain, CancellationToken cancellationToken) =>
        inner.ConnectAsync(DomainBuckets.DomainOf(domain), cancellationToken);

    public DomainShaping ShapingFor(string domain) => inner.ShapingFor(DomainBuckets.DomainOf(domain));
}
