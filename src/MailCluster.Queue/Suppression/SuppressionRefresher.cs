using MailCluster.Queue.Tables;
using Microsoft.Extensions.Logging;

namespace MailCluster.Queue.Suppression;

/// <summary>
/// Keeps <see cref="SuppressionList"/> in step with the cluster table (<see cref="PeriodicTableRefresher{TSnapshot}"/>):
/// every <see cref="Interval"/> it reads the change counter, and the whole table only when it moved (or once a minute,
/// so that entries expire from memory too). An entry added or removed on any node is in force on this one within about
/// 2 s (the bound is 5 s). While the database cannot be read, the last set stays in force.
/// </summary>
public sealed partial class SuppressionRefresher(ISuppressionStore store, SuppressionList list, TimeProvider clock, ILogger<SuppressionRefresher> logger)
    : PeriodicTableRefresher<SuppressionSet?>(clock, DefaultInterval)
{
    private static readonly TimeSpan FullReadEvery = TimeSpan.FromMinutes(1);

    private long _version = -1;
    private DateTimeOffset _lastFullRead;

    protected override Task InitializeStoreAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    /// <returns>The table, or null when the counter has not moved since the last full read (less than a minute ago).</returns>
    /// <remarks>Reads run one at a time (<see cref="PeriodicTableRefresher{TSnapshot}.RefreshAsync"/>), so the fields need no lock.</remarks>
    protected override async Task<SuppressionSet?> ReadAsync(CancellationToken cancellationToken)
    {
        var version = await store.VersionAsync(cancellationToken).ConfigureAwait(false);
        var now = Clock.GetUtcNow();
        if (version == _version && now - _lastFullRead < FullReadEvery)
        {
            return null;
        }

        var set = new SuppressionSet(await store.ActiveAsync(now, cancellationToken).ConfigureAwait(false));
        (_version, _lastFullRead) = (version, now);
        return set;
    }

    protected override void Publish(SuppressionSet? snapshot)
    {
        if (snapshot is not null)
        {
            list.Replace(snapshot);
        }
    }

    protected override void LogInitRetry(Exception exception) => LogInitRetry(logger, exception);

    protected override void LogReadFailed(Exception exception) => LogReadFailed(logger, exception);

    protected override void LogRecovered() => LogRecovered(logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Suppression store not reachable; retrying")]
    private static partial void LogInitRetry(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read the suppression list; the set read last stays in force until the database answers")]
    private static partial void LogReadFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Suppression list read again from the database")]
    private static partial void LogRecovered(ILogger logger);
}
