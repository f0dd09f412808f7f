using System.Collections.Concurrent;

namespace MailCluster.Outbound.TlsRpt;

/// <summary>
/// This node's counts since the last flush, keyed by period and session kind; the reporter adds them to the
/// cluster's table every <see cref="TlsRptOptions.FlushSeconds"/> (and at shutdown), so that delivery never waits
/// for the database. Counts not yet flushed when a node dies are lost: reports are statistics, not mail.
/// </summary>
public sealed class TlsRptCounters(TimeProvider clock, TlsRptOptions options) : ITlsRptRecorder
{
    private readonly Lock _gate = new();
    private ConcurrentDictionary<TlsRptKey, long> _counts = new();

    public void Record(TlsRptSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        long now = clock.GetUtcNow().ToUnixTimeSeconds();
        long period = now - (now % options.PeriodSeconds);
        var key = new TlsRptKey(period, session.PolicyDomain.TrimEnd('.').ToLowerInvariant(), TlsRptNames.Of(session.PolicyType),
            session.Policy ?? "", TlsRptNames.Of(session.Result), session.MxHost ?? "", session.ReceivingIp ?? "");
        lock (_gate)
        {
            _counts.AddOrUpdate(key, 1, (_, n) => n + 1);
        }
    }

    /// <summary>Takes the counts so far, leaving a fresh set for new ones.</summary>
    public IReadOnlyCollection<KeyValuePair<TlsRptKey, long>> Drain()
    {
        ConcurrentDictionary<TlsRptKey, long> taken;
        lock (_gate)
        {
            taken = _counts;
            _counts = new();
        }

        return taken.ToArray();
    }

    /// <summary>Puts drained counts back after a failed flush (added to whatever came in meanwhile).</summary>
    public void Restore(IEnumerable<KeyValuePair<TlsRptKey, long>> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        lock (_gate)
        {
            foreach (var (key, n) in counts)
            {
                _counts.AddOrUpdate(key, n, (_, m) => m + n);
            }
        }
    }
}
