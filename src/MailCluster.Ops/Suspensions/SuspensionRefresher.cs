using MailCluster.Queue.Suspensions;
using MailCluster.Queue.Tables;
using Microsoft.Extensions.Logging;

namespace MailCluster.Ops.Suspensions;

/// <summary>
/// Keeps this node's <see cref="SuspensionSet"/> in step with the database (<see cref="PeriodicTableRefresher{TSnapshot}"/>):
/// every suspension is read every <see cref="Interval"/>, so a suspension set or lifted on any node holds, or ends, on
/// this one within about 2 s. Until the first read, the set makes every queue wait (<see cref="SuspensionSet.UntilFor"/>).
/// While the database cannot be read the last set read stays in force.
/// </summary>
public sealed partial class SuspensionRefresher(ISuspensionStore store, SuspensionSet suspensions, ILogger<SuspensionRefresher> logger)
    : PeriodicTableRefresher<IReadOnlyList<DestinationSuspension>>(TimeProvider.System, DefaultInterval)
{
    protected override Task InitializeStoreAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    protected override Task<IReadOnlyList<DestinationSuspension>> ReadAsync(CancellationToken cancellationToken) => store.ListAsync(cancellationToken);

    protected override void Publish(IReadOnlyList<DestinationSuspension> snapshot) => suspensions.Replace(snapshot);

    protected override void LogInitRetry(Exception exception) => LogInitRetry(logger, exception);

    protected override void LogReadFailed(Exception exception) => LogReadFailed(logger, exception);

    protected override void LogRecovered() => LogRecovered(logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Destination suspension store not reachable; retrying (queues wait until it is read)")]
    private static partial void LogInitRetry(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read the destination suspensions; the set read last stays in force until the database answers")]
    private static partial void LogReadFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination suspensions read again from the database")]
    private static partial void LogRecovered(ILogger logger);
}
