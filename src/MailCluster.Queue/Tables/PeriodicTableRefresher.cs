using Microsoft.Extensions.Hosting;

namespace MailCluster.Queue.Tables;

/// <summary>
/// Keeps an in-memory snapshot of a cluster table in step with the database, the one loop behind the tokens,
/// credentials, suspensions and suppressions: creates the schema at start (retrying every <see cref="Interval"/> while
/// the database is unreachable), then reads the table every <see cref="Interval"/> and publishes what it read, so a
/// change made on any node is in force on this one within about one interval (the bound those features promise is
/// 5 s). While the database cannot be read the last snapshot published stays in force, and one warning is logged per
/// outage (and one line when it ends). A feature supplies only what differs: its schema creation, its read, what it
/// publishes and its log lines.
/// </summary>
/// <typeparam name="TSnapshot">What one read returns and <see cref="Publish"/> puts in force.</typeparam>
public abstract class PeriodicTableRefresher<TSnapshot> : BackgroundService
{
    /// <summary>The interval every table refresher uses unless it is given another.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeProvider _clock;
    private bool _failing;

    protected PeriodicTableRefresher(TimeProvider clock, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        (_clock, Interval) = (clock, interval);
    }

    /// <summary>Time between two reads, and between two tries of creating the schema.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Completes once the schema exists (writers may wait for it). Never completes if the service stops first.</summary>
    public Task Initialized => _initialized.Task;

    /// <summary>The clock the loop waits on (a fake one in tests).</summary>
    protected TimeProvider Clock => _clock;

    /// <summary>Reads the table now and publishes it; called after this node changed the table, so the change is in force
    /// here at once. Refreshes run one at a time, so an older read never replaces a newer one. Never throws for a failed
    /// read (the last snapshot stays); throws only <see cref="OperationCanceledException"/>.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var snapshot = await ReadAsync(cancellationToken).ConfigureAwait(false);
            Publish(snapshot);
            if (_failing)
            {
                _failing = false;
                LogRecovered();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (!_failing)
            {
                _failing = true;
                LogReadFailed(ex);
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
        GC.SuppressFinalize(this);
    }

    /// <summary>Creates the table if missing (idempotent).</summary>
    protected abstract Task InitializeStoreAsync(CancellationToken cancellationToken);

    /// <summary>One read of the table. May throw: the failure is logged once per outage and the last snapshot stays.</summary>
    protected abstract Task<TSnapshot> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Puts a snapshot just read in force (called only after a read that succeeded).</summary>
    protected abstract void Publish(TSnapshot snapshot);

    /// <summary>Logged for each failed try of creating the schema.</summary>
    protected abstract void LogInitRetry(Exception exception);

    /// <summary>Logged once when reads start failing.</summary>
    protected abstract void LogReadFailed(Exception exception);

    /// <summary>Logged once when a read succeeds again after a failure.</summary>
    protected abstract void LogRecovered();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await InitializeStoreAsync(stoppingToken).ConfigureAwait(false);
                _initialized.TrySetResult();
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogInitRetry(ex);
                await Task.Delay(Interval, _clock, stoppingToken).ConfigureAwait(false);
            }
        }

        using var timer = new PeriodicTimer(Interval, _clock);
        do
        {
            await RefreshAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
