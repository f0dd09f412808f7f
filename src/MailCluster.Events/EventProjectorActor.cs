using Akka.Actor;
using Akka.Event;
using Akka.Streams;

namespace MailCluster.Events;

/// <summary>
/// Runs the <see cref="EventProjection"/> over the journal (<see cref="JournalFollower"/>), as a cluster singleton (one
/// writer of the projection at a time; a hand-over resumes from the stored offset). Also prunes events past the
/// retention every ten minutes (the first a minute after start), in batches (<see cref="EventStore.PruneAsync"/>), so
/// that a busy node deletes ten minutes of expired events at a time, not an hour's in one transaction.
/// </summary>
public sealed class EventProjectorActor : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan PruneEvery = TimeSpan.FromMinutes(10);

    /// <summary>Between two pruning transactions: the projection's own writes get the store in between.</summary>
    private static readonly TimeSpan PrunePause = TimeSpan.FromMilliseconds(20);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly EventProjection _projection;
    private readonly EventStore _store;
    private readonly EventsOptions _options;
    private readonly Queue.Contracts.DirectJournal? _direct;
    private UniqueKillSwitch? _stream;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="direct">The journal table to read directly; null: through Akka.Persistence.Query (see <see cref="JournalFollower"/>).</param>
    public EventProjectorActor(EventProjection projection, EventStore store, EventsOptions options, Queue.Contracts.DirectJournal? direct)
    {
        (_projection, _store, _options, _direct) = (projection, store, options, direct);
        Receive<Prune>(_ => PruneAsync().PipeTo(Self));
        Receive<Pruned>(p =>
        {
            if (p.Error is not null)
            {
                _log.Warning(p.Error, "Pruning delivery events failed; retrying in ten minutes");
            }
            else if (p.Deleted > 0)
            {
                _log.Info("Pruned {0} delivery events older than {1} days", p.Deleted, _options.RetentionDays);
            }

            Timers.StartSingleTimer(nameof(Prune), Prune.Instance, PruneEvery);
        });
    }

    public static Props Props(EventProjection projection, EventStore store, EventsOptions options, Queue.Contracts.DirectJournal? direct) =>
        Akka.Actor.Props.Create(() => new EventProjectorActor(projection, store, options, direct));

    protected override void PreStart()
    {
        _stream = JournalFollower.Run(Context, _projection, _log, _direct);
        Timers.StartSingleTimer(nameof(Prune), Prune.Instance, TimeSpan.FromMinutes(1));
    }

    protected override void PostStop() => _stream?.Shutdown();

    private async Task<Pruned> PruneAsync()
    {
        try
        {
            var now = DateTimeOffset.UtcNow;

            // A message's context lives as long as the message may (retries for days) and its events are kept.
            var deleted = await _store.PruneAsync(now.AddDays(-_options.RetentionDays), now.AddDays(-Math.Max(30, _options.RetentionDays)), CancellationToken.None, EventStore.PruneBatch, PrunePause).ConfigureAwait(false);
            return new Pruned(deleted, null);
        }
#pragma warning disable CA1031 // reported and retried
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new Pruned(0, ex);
        }
    }

    private sealed record Prune
    {
        public static readonly Prune Instance = new();
    }

    private sealed record Pruned(long Deleted, Exception? Error);
}

/// <summary>Registry key of the projector singleton.</summary>
public sealed class EventProjector;
