using MailCluster.Queue.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Storage.Journal;

/// <summary>
/// Runs <see cref="JournalCompaction"/> every <c>MailCluster:Storage:JournalCompactionSeconds</c> (the first run one
/// interval after start), bounded by the other journal readers' position (<see cref="IJournalReaders"/>; none
/// registered: no other reader). A failed run is logged and tried again at the next interval.
/// </summary>
public sealed partial class JournalCompactor(
    JournalCompaction compaction, TimeSpan interval, IEnumerable<IJournalReaders> readers, ILogger<JournalCompactor> logger) : BackgroundService
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(50);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                long passed = long.MaxValue;
                foreach (var reader in readers)
                {
                    passed = Math.Min(passed, await reader.PassedAsync(stoppingToken).ConfigureAwait(false));
                }

                long deleted = await compaction.RunAsync(passed, Pause, stoppingToken).ConfigureAwait(false);
                if (deleted > 0)
                {
                    LogCompacted(logger, deleted);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Journal compaction deleted {Count} events covered by snapshots")]
    private static partial void LogCompacted(ILogger logger, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Journal compaction failed; trying again at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception ex);
}
