using Akka.Actor;
using Akka.Event;
using Akka.Streams;

namespace MailCluster.Events;

/// <summary>
/// Runs the <see cref="EventProjection"/> over the journal (<see cref="JournalFollower"/>), as a cluster singleton (one
/// writer of the projection at a time; a hand-over resumes from the stored offset). Also prunes events past the
/// retention every <see cref="EventsOptions.PruneInterval"/> (ten minutes for a retention in days; the first within a
/// minute of start), in batches (<see cref="EventStore.PruneAsync"/>), so that a busy node deletes minutes of expired
/// events at a time, not an hour's in one transaction.
/// </summary>
public sealed class EventProjectorActor : ReceiveActor, IWithTimers
{
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
                _log.Warning(p.Error, "Pruning delivery events failed; retrying in {0}", _options.PruneInterval);
            }
            else if (p.Deleted > 0)
            {
                _log.Info("Pruned {0} delivery events older than {1}", p.Deleted, _options.Retention);
            }

            Timers.StartSingleTimer(nameof(Prune), Prune.Instance, _options.PruneInterval);
        });
    }

    public static Props Props(EventProjection projection, EventStore store, EventsOptions options, Queue.Contracts.DirectJournal? direct) =>
        Akka.Actor.Props.Create(() => new EventProjectorActor(projection, store, options, direct));

    protected override void PreStart()
    {
        _stream = JournalFollower.Run(Context, _projection, _log, _direct);
        var first = _options.PruneInterval < TimeSpan.FromMinutes(1) ? _options.PruneInterval : TimeSpan.FromMinutes(1);
        Timers.StartSingleTimer(nameof(Prune), Prune.Instance, first);
    }

    protected override void PostStop() => _stream?.Shutdown();

    private async Task<Pruned> PruneAsync()
    {
        try
        {
            var now = DateTimeOffset.UtcNow;

            // A finished message's context is deleted with its last events (EventProjection); an unfinished one's lives
            // as long as the message may (retries for days, holds) and its events are kept.
            var retention = _options.Retention;
            var contexts = retention > TimeSpan.FromDays(30) ? retention : TimeSpan.FromDays(30);
            var deleted = await _store.PruneAsync(now - retention, now - contexts, CancellationToken.None, EventStore.PruneBatch, PrunePause).ConfigureAwait(false);
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
