namespace MailCluster.Queue.Suspensions;

/// <summary>
/// An operator's suspension of a destination domain (KumoMTA's <c>suspend/v1</c>, Postfix's <c>defer_transports</c>
/// for one domain): until <see cref="Until"/>, no queue of the domain (every bucket of a split one) starts a delivery.
/// Stored in the cluster database (table <c>mc_destination_suspension</c>), one row per domain.
/// </summary>
/// <param name="Domain">The normalised destination domain (a shard key's domain, never a bucket id).</param>
/// <param name="Reason">Why, for the operators who will see it (1 to <see cref="MaxReasonLength"/> characters).</param>
/// <param name="CreatedAt">When it was set (or last replaced).</param>
/// <param name="Until">When it ends by itself.</param>
public sealed record DestinationSuspension(string Domain, string Reason, DateTimeOffset CreatedAt, DateTimeOffset Until)
{
    public const int MaxReasonLength = 500;

    /// <summary>The longest suspension an operator may set at once (30 days): longer than Retry:MaxAgeSeconds's default,
    /// short enough that a forgotten one still ends.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(30);

    public bool ActiveAt(DateTimeOffset now) => Until > now;
}
