namespace MailCluster.Queue.Spool;

/// <summary>
/// Which recipient domains still hold a message: the spool keeps one reference per recipient domain of each body until
/// that domain's queue is done with it (<see cref="ISpoolStore.ReleaseAsync"/>), so the references answer "which domain
/// queues may hold message X" from any node without knowing the domain (the ops API's hold and release).
/// </summary>
public interface IMessageDomains
{
    /// <summary>The domains (lower-case, normalised like every shard key) whose reference to the body of
    /// <paramref name="messageId"/> remains, in ordinal order; empty when the spool has no such body.</summary>
    Task<IReadOnlyList<string>> DomainsOfAsync(string messageId, CancellationToken cancellationToken);
}
