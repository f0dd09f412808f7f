namespace MailCluster.Outbound.MtaSts;

/// <summary>A fetched policy as the cluster keeps it: the body (re-parsed on load), the TXT id it was fetched under,
/// and until when it may be used (fetched_at + max_age, RFC 8461 §3.3).</summary>
public sealed record StoredMtaStsPolicy(string Domain, string Id, string Text, DateTimeOffset FetchedAt, DateTimeOffset ExpiresAt);

/// <summary>
/// The cluster's MTA-STS policy cache (table <c>mc_mta_sts_policy</c>, one row per policy domain): in the shared
/// PostgreSQL of a cluster, or a SQLite file next to the access database on the embedded node. A node that restarts
/// or takes over a domain reads the policy here instead of fetching it again.
/// </summary>
public interface IMtaStsStore : IAsyncDisposable
{
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<StoredMtaStsPolicy?> GetAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the domain's row.</summary>
    Task PutAsync(StoredMtaStsPolicy policy, CancellationToken cancellationToken);
}
