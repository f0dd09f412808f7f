using MailCluster.Queue.Spool;

namespace MailCluster.Queue.Buckets;

/// <summary>
/// The spool as seen by domain-queue entities: acceptance references a body by destination domain
/// (<c>gmail.com</c>), while a bucket entity (<c>gmail.com#2</c>) releases it under its entity id; this maps the
/// release back to the domain. One message's recipients in a domain live in one bucket, so each reference is
/// released exactly once.
/// </summary>
public sealed class BucketAwareSpoolStore(ISpoolStore inner) : ISpoolStore
{
    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public Task WriteAsync(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains, CancellationToken cancellationToken) =>
        inner.WriteAsync(messageId, body, domains, cancellationToken);

    public Task CommitAsync(string messageId, CancellationToken cancellationToken) => inner.CommitAsync(messageId, cancellationToken);

    public Task<SpoolEntry> ReadAsync(string messageId, CancellationToken cancellationToken) => inner.ReadAsync(messageId, cancellationToken);

    public Task ReleaseAsync(string messageId, string domain, CancellationToken cancellationToken) =>
        inner.ReleaseAsync(messageId, DomainBuckets.DomainOf(domain), cancellationToken);

    public Task DeleteUncommittedAsync(string messageId, CancellationToken cancellationToken) => inner.DeleteUncommittedAsync(messageId, cancellationToken);

    public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
}
