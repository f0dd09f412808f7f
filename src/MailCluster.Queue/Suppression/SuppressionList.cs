namespace MailCluster.Queue.Suppression;

/// <summary>
/// The suppression check every acceptance path calls (SMTP RCPT of authenticated submissions, the HTTP injection API's
/// <c>failed_recipients</c>): an in-memory <see cref="SuppressionSet"/> replaced whenever the cluster table changes
/// (the refresher polls a version counter every 2 s), so a check never costs a database round trip. Thread-safe:
/// the set is immutable and swapped whole.
/// </summary>
public sealed class SuppressionList(TimeProvider clock)
{
    private volatile SuppressionSet _set = SuppressionSet.Empty;

    /// <summary>The set in force now.</summary>
    public SuppressionSet Current => _set;

    /// <summary>The entry suppressing <paramref name="address"/> for submissions by <paramref name="credential"/> (the
    /// SMTP user or API key id), or null when it may be mailed.</summary>
    public SuppressionEntry? Find(string address, string? credential) => _set.Find(address, credential, clock.GetUtcNow());

    /// <summary>Replaces the set (the refresher, after reading the table).</summary>
    public void Replace(SuppressionSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        _set = set;
    }
}
