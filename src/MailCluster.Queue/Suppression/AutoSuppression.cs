using System.Threading.Channels;
using MailCluster.Queue.Bounces;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Queue.Suppression;

/// <summary>
/// Adds hard-bounced recipients to the suppression list (global scope: the domain queue does not know which credential
/// submitted a message) when their bounce label is one of <see cref="SuppressionOptions.EffectiveLabels"/>. A domain
/// queue hands the bounce over without waiting (<see cref="Bounced"/> only queues it); the writes run here, one at a
/// time, and a bounce that cannot be written (the database is down) is logged and dropped: the bounce itself is
/// already durable and reported, the suppression entry is an optimisation. The queue is bounded; when it is full
/// further bounces are dropped with a warning rather than holding delivery.
/// </summary>
public sealed partial class AutoSuppression(
    ISuppressionStore store, SuppressionRefresher refresher, SuppressionOptions options, TimeProvider clock, ILogger<AutoSuppression> logger)
    : BackgroundService, IHardBounceSink
{
    private readonly Channel<HardBounce> _pending = Channel.CreateBounded<HardBounce>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly HashSet<string> _labels = options.EffectiveLabels.ToHashSet(StringComparer.OrdinalIgnoreCase);

    public void Bounced(HardBounce bounce)
    {
        ArgumentNullException.ThrowIfNull(bounce);
        if (!options.AutoSuppress || !_labels.Contains(bounce.Label))
        {
            return;
        }

        if (!_pending.Writer.TryWrite(bounce))
        {
            LogDropped(logger, bounce.Recipient);
        }
    }

    /// <summary>The entry a hard bounce makes.</summary>
    public static SuppressionEntry EntryFor(HardBounce bounce, TimeSpan expiry, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(bounce);
        var source = $"{bounce.MessageId}: {bounce.Code} {bounce.EnhancedCode} {bounce.Text}";
        return new SuppressionEntry(
            SuppressionEntry.Normalize(bounce.Recipient),
            null,
            $"hard bounce ({bounce.Label})",
            source.Length > SuppressionEntry.MaxSourceLength ? source[..SuppressionEntry.MaxSourceLength] : source,
            now,
            now + expiry);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await refresher.Initialized.WaitAsync(stoppingToken).ConfigureAwait(false);
        await foreach (var bounce in _pending.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                var entry = EntryFor(bounce, options.Expiry, clock.GetUtcNow());
                await store.UpsertAsync(entry, stoppingToken).ConfigureAwait(false);
                LogAdded(logger, entry.Address, bounce.Label, bounce.MessageId);
                if (_pending.Reader.Count == 0)
                {
                    await refresher.RefreshAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogWriteFailed(logger, ex, bounce.Recipient);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Suppressed <{Recipient}> after a hard bounce ({Label}) of {QueueId}")]
    private static partial void LogAdded(ILogger logger, string recipient, string label, string queueId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not add <{Recipient}> to the suppression list after its hard bounce")]
    private static partial void LogWriteFailed(ILogger logger, Exception ex, string recipient);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Suppression writes are behind; <{Recipient}> was not added after its hard bounce")]
    private static partial void LogDropped(ILogger logger, string recipient);
}
