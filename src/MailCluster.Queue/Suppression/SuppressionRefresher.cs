using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Queue.Suppression;

/// <summary>
/// Keeps <see cref="SuppressionList"/> in step with the cluster table: creates the schema at start (retrying while the
/// database is unreachable), then every <see cref="Interval"/> reads the change counter, and the whole table only when
/// it moved (or once a minute, so that entries expire from memory too). An entry added or removed on any node is in
/// force on this one within about 2 s (the bound is 5 s). While the database cannot be read, the last set
/// stays in force and one warning is logged per outage.
/// </summary>
public sealed partial class SuppressionRefresher(ISuppressionStore store, SuppressionList list, TimeProvider clock, ILogger<SuppressionRefresher> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan FullReadEvery = TimeSpan.FromMinutes(1);

    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _version = -1;
    private DateTimeOffset _lastFullRead;
    private bool _failing;

    /// <summary>Completes once the schema exists (writers wait for it).</summary>
    public Task Initialized => _initialized.Task;

    /// <summary>Reads the table now; called after this node changed it. Refreshes run one at a time.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var version = await store.VersionAsync(cancellationToken).ConfigureAwait(false);
            var now = clock.GetUtcNow();
            if (version != _version || now - _lastFullRead >= FullReadEvery)
            {
                list.Replace(new SuppressionSet(await store.ActiveAsync(now, cancellationToken).ConfigureAwait(false)));
                (_version, _lastFullRead) = (version, now);
            }

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
                _initialized.TrySetResult();
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Suppression store not reachable; retrying")]
    private static partial void LogInitRetry(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read the suppression list; the set read last stays in force until the database answers")]
    private static partial void LogReadFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Suppression list read again from the database")]
    private static partial void LogRecovered(ILogger logger);
}
