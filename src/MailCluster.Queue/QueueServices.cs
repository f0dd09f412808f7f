using MailCluster.Queue.Delivery;
using MailCluster.Queue.Spool;

namespace MailCluster.Queue;

/// <summary>What a domain queue needs from the node, resolved once from DI.</summary>
public sealed record QueueServices(ISpoolStore Spool, IDeliverer Deliverer, RetryPolicy Retry, QueueOptions Options, TimeProvider Clock);
