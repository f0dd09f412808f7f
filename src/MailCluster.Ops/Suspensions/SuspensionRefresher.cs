using MailCluster.Queue.Suspensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Ops.Suspensions;

/// <summary>
/// Keeps this node's <see cref="SuspensionSet"/> in step with the database: creates the table at start (retrying while
/// the database is unreachable), then reads every suspension every <see cref="Interval"/>, so a suspension set or lifted
/// on any node holds, or ends, on this one within about 2 s. Until the first read, the set makes every queue wait
/// (<see cref="SuspensionSet.UntilFor"/>). While the database cannot be read the last set read stays in force, and a
/// warning is logged once per outage.
/// </summary>
public sealed partial class SuspensionRefresher(ISuspensionStore store, SuspensionSet suspensions, ILogger<SuspensionRefresher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private bool _failing;

    /// <summary>Reads the table now; called after this node changed it. Refreshes run one at a time, so an older read
    /// never replaces a newer one.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            suspensions.Replace(await store.ListAsync(cancellationToken).ConfigureAwait(false));
            if (_failing)
            {
                _failing = false;
                LogRecovered(logger);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (!_failing)
            {
                _failing = true;
                LogReadFailed(logger, ex);
            }
        }
        finally
        {
            _refreshing.Release();
        }
    }

    public override void Dispose()
    {
        _refreshing.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await store.InitializeAsync(stoppingToken).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogInitRetry(logger, ex);
                await Task.Delay(Interval, stoppingToken).ConfigureAwait(false);
            }
        }

        using var timer = new PeriodicTimer(Interval);
        do
        {
            await RefreshAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Destination suspension store not reachable; retrying (queues wait until it is read)")]
    private static partial void LogInitRetry(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read the destination suspensions; the set read last stays in force until the database answers")]
    private static partial void LogReadFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination suspensions read again from the database")]
    private static partial void LogRecovered(ILogger logger);
}
