using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using MailCluster.Queue.Contracts;
using MailCluster.Queue.Serialization;

namespace MailCluster.Events;

/// <summary>A projection of the domain queues' journal that stores its own offset (the last journal ordering it applied).</summary>
public interface IJournalProjection
{
    /// <summary>Names the projection in logs.</summary>
    string Name { get; }

    /// <summary>The ordering to resume after (0: from the start of the journal).</summary>
    Task<long> StartOffsetAsync(CancellationToken ct);

    /// <summary>True for the journal events <see cref="ApplyAsync"/> wants; the rest are passed by.</summary>
    bool Relevant(object journalEvent);

    /// <summary>False for an event type <see cref="Relevant"/> never accepts: the tails of the journal table pass its
    /// rows by unread (<see cref="UnreadJournalRow"/>) instead of deserializing them. Every type by default.</summary>
    bool Reads(Type eventType) => true;

    /// <summary>Applies a batch, in journal order, and stores the last ordering as the offset; throws to be retried.</summary>
    Task ApplyAsync(IReadOnlyList<(long Ordering, object Event)> batch, CancellationToken ct);

    /// <summary>Stores <paramref name="ordering"/> as the offset: every event up to it was passed by as not relevant.
    /// Without it the offset would stay behind while only irrelevant events arrive, and the journal compaction, which
    /// deletes nothing above any projection's offset, would wait for it for ever.</summary>
    Task AdvanceAsync(long ordering, CancellationToken ct);
}

/// <summary>
/// Runs an <see cref="IJournalProjection"/> over the journal, from its stored offset: the journal table read directly
/// (<see cref="SqliteJournalTail"/>, <see cref="PostgresJournalTail"/>) when the storage feature registered a
/// <see cref="DirectJournal"/>, else Akka.Persistence.Query's <c>AllEvents</c>. Each follows the journal's global
/// ordering and waits for gaps left by transactions still in flight before it passes them, so no committed event is
/// skipped. After any failure (database down) the stream restarts with backoff from the
/// offset stored last, so a batch whose offset was not stored is applied again: at least once.
/// </summary>
public static class JournalFollower
{
    /// <summary>Starts following; the switch stops it (call it from the owning actor's PostStop).</summary>
    /// <param name="direct">The journal table, read directly: <see cref="SqliteJournalTail"/> or <see cref="PostgresJournalTail"/>
    /// (which waits for the gaps of concurrent writers); null: through Akka.Persistence.Query's <c>AllEvents</c>.</param>
    public static UniqueKillSwitch Run(IActorContext context, IJournalProjection projection, ILoggingAdapter log, DirectJournal? direct = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(projection);
        var system = context.System;
        long lastAdvance = 0;
        var source = RestartSource.OnFailuresWithBackoff(
            () => Source.FromTask(projection.StartOffsetAsync(CancellationToken.None))
                .ConcatMany(start => direct is null ? AllEvents(system, start) : Tail(system, direct, start, projection))
                .GroupedWithin(500, TimeSpan.FromMilliseconds(100))
                .SelectAsync(1, async batch =>
                {
                    try
                    {
                        var items = batch.ToList();
                        var relevant = items.Where(e => projection.Relevant(e.Event)).ToList();
                        if (relevant.Count > 0)
                        {
                            await projection.ApplyAsync(relevant, CancellationToken.None).ConfigureAwait(false);
                        }

                        // The batch ends with events passed by: store how far it went (at most once a second when
                        // nothing in it was relevant, so a quiet projection costs little).
                        var last = items[^1].Ordering;
                        var now = Environment.TickCount64;
                        if ((relevant.Count > 0 && relevant[^1].Ordering < last) || (relevant.Count == 0 && now - lastAdvance >= 1000))
                        {
                            await projection.AdvanceAsync(last, CancellationToken.None).ConfigureAwait(false);
                            lastAdvance = now;
                        }
                    }
                    catch (Exception ex)
                    {
                        log.Warning(ex, "Journal projection {0} failed; restarting from its stored offset", projection.Name);
                        throw;
                    }

                    return NotUsed.Instance;
                }),
            RestartSettings.Create(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2));
        return source.ViaMaterialized(KillSwitches.Single<NotUsed>(), Keep.Right).To(Sink.Ignore<NotUsed>()).Run(context.Materializer());
    }

    private static Source<(long Ordering, object Event), NotUsed> AllEvents(ActorSystem system, long start) =>
        Source.FromTask(JournalAsync(system))
            .ConcatMany(journal => journal.AllEvents(Offset.Sequence(start))
                .Select(e => (Ordering: ((Sequence)e.Offset).Value, e.Event))
                .Where(e => e.Ordering > start));

    private static Source<(long Ordering, object Event), NotUsed> Tail(ActorSystem system, DirectJournal direct, long start, IJournalProjection projection)
    {
        var serialization = system.Serialization;
        object Deserialize(byte[] bytes, string manifest) => serialization.Deserialize(bytes, QueueSerializer.Id, manifest);

        // A manifest this release does not know is deserialized, and fails there as it did before the filter.
        bool Reads(string manifest) => QueueSerializer.TypeOf(manifest) is not { } type || projection.Reads(type);
        return direct switch
        {
            EmbeddedJournal embedded => SqliteJournalTail.From(embedded.Path, QueueSerializer.Id, Deserialize, start, Reads),
            PostgresJournal postgres => PostgresJournalTail.From(postgres.ConnectionString, QueueSerializer.Id, Deserialize, start, TimeProvider.System, Reads),
            _ => throw new ArgumentOutOfRangeException(nameof(direct), direct, "unknown journal"),
        };
    }

    /// <summary>The read journal, made on a thread of its own: its constructor blocks on an ask (5 s timeout), and two
    /// projector singletons doing so in PreStart on a 2-core node starved the dispatcher until the ask timed out. The
    /// extension keeps the journal once made, so a restart of the stream gets it at once.</summary>
    private static Task<SqlReadJournal> JournalAsync(ActorSystem system) => Task.Factory.StartNew(
        () => PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier),
        CancellationToken.None,
        TaskCreationOptions.LongRunning,
        TaskScheduler.Default);
}

/// <summary>
/// A queue row of the journal that a tail passed by without deserializing it, because its projection does not read
/// its type (<see cref="IJournalProjection.Reads"/>): it still carries its ordering, so the projection's offset moves
/// past it (<see cref="IJournalProjection.AdvanceAsync"/>). No projection finds it relevant.
/// </summary>
public sealed class UnreadJournalRow
{
    public static readonly UnreadJournalRow Instance = new();

    private UnreadJournalRow()
    {
    }
}
