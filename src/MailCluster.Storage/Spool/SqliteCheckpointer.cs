using MailCluster.Queue.Spool;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace MailCluster.Storage;

/// <summary>
/// Moves the spool's WAL into the database file off the writer's path. By default SQLite checkpoints inside the
/// commit that takes the WAL past 1,000 pages: the writer copies every page into the database file and fsyncs it
/// while the sessions in the next batch wait for their 250. Here the writer's automatic checkpoint is a far backstop
/// (<see cref="WriterAutoCheckpointPages"/>) and this loop, on its own connection, runs a PASSIVE checkpoint (it never
/// blocks the writer or readers) whenever the writer reports <see cref="SignalBytes"/> written since the last one.
/// Durability does not depend on it: a commit is durable once its WAL frames are fsync'd.
/// </summary>
internal sealed partial class SqliteCheckpointer : IAsyncDisposable
{
    /// <summary>The writer's own automatic checkpoint, reached only if this loop falls far behind (64 MB of WAL).</summary>
    public const int WriterAutoCheckpointPages = 16_384;

    /// <summary>About the WAL growth (4 MB) at which SQLite's default would have checkpointed.</summary>
    public const long SignalBytes = 4L * 1024 * 1024;

    private readonly Func<CancellationToken, Task<SqliteConnection>> _open;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _sinceSignal;

    public SqliteCheckpointer(Func<CancellationToken, Task<SqliteConnection>> open, ILogger logger)
    {
        _open = open;
        _logger = logger;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Checkpoints that completed (for tests and diagnostics).</summary>
    public int Completed { get; private set; }

    /// <summary>Called by the writer after each commit with the bytes it wrote (approximately).</summary>
    public void Written(long bytes)
    {
        if (Interlocked.Add(ref _sinceSignal, bytes) < SignalBytes)
        {
            return;
        }

        Interlocked.Exchange(ref _sinceSignal, 0);
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled: one checkpoint covers both.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
        _signal.Dispose();
    }

    private async Task LoopAsync()
    {
        SqliteConnection? connection = null;
        try
        {
            while (true)
            {
                await _signal.WaitAsync(_stop.Token).ConfigureAwait(false);
                try
                {
                    connection ??= await _open(_stop.Token).ConfigureAwait(false);
                    using var command = connection.CreateCommand();
                    command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                    await command.ExecuteNonQueryAsync(_stop.Token).ConfigureAwait(false);
                    Completed++;
                }
                catch (SqliteException ex)
                {
                    // Nothing is lost: the frames stay in the WAL for the next checkpoint (or the writer's backstop).
                    LogFailed(_logger, ex);
                    if (connection is not null)
                    {
                        await connection.DisposeAsync().ConfigureAwait(false);
                        connection = null;
                    }
                }
            }
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Spool WAL checkpoint failed; retrying at the next one")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
