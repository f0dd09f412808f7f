using MailCluster.Queue.Contracts;
using MailCluster.Queue.Events;
using MailCluster.Queue.Protocol;

namespace MailCluster.Events;

/// <summary>
/// The projection of the domain queues' journal into delivery events: each batch of journal events, in journal order,
/// becomes events, changed message contexts and the journal offset read, committed in one transaction
/// (<see cref="EventStore.CommitProjectionAsync"/>). Exactly once: after a crash the projection resumes from the stored
/// offset, and what it had committed before is never mapped again. Contexts are cached in memory (bounded), read from
/// the table when missing, and deleted in the transaction of the outcome that finishes their message (no recipient
/// left pending), so the table holds the messages in the queues, not every message of the last 30 days.
/// </summary>
public sealed class EventProjection(EventStore store, IBounceClassifier? classifier, EventMetrics? metrics, TimeProvider clock) : IJournalProjection
{
    public const string Name = "delivery-events";
    private const int CacheLimit = 100_000;
    private readonly Dictionary<string, MessageContext> _cache = new(StringComparer.Ordinal);

    string IJournalProjection.Name => Name;

    public async Task<long> StartOffsetAsync(CancellationToken ct)
    {
        await store.Initialized.WaitAsync(ct).ConfigureAwait(false);
        return await store.ProjectionOffsetAsync(Name, ct).ConfigureAwait(false);
    }

    public Task AdvanceAsync(long ordering, CancellationToken ct) =>
        store.CommitProjectionAsync(Name, [], [], ordering, clock.GetUtcNow(), ct);

    bool IJournalProjection.Relevant(object journalEvent) => Relevant(journalEvent);

    bool IJournalProjection.Reads(Type eventType) => Reads(eventType);

    /// <summary>The journal event types the projection maps (those <see cref="QueueIdOf"/> knows); rows of others are
    /// passed by without being deserialized.</summary>
    public static bool Reads(Type eventType) =>
        eventType == typeof(ReceptionDetails) || eventType == typeof(Enqueued) || eventType == typeof(AttemptDetails) || eventType == typeof(AttemptCompleted);

    /// <summary>True for the journal events the projection maps; others are skipped without being stored.</summary>
    public static bool Relevant(object journalEvent) => QueueIdOf(journalEvent) is not null;

    /// <param name="batch">Journal events in journal order, each with its ordering.</param>
    public async Task ApplyAsync(IReadOnlyList<(long Ordering, object Event)> batch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return;
        }

        var ids = batch.Select(b => QueueIdOf(b.Event)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var working = new Dictionary<string, MessageContext>(StringComparer.Ordinal);
        foreach (var id in ids.Where(_cache.ContainsKey))
        {
            working[id] = _cache[id];
        }

        foreach (var (id, context) in await store.ContextsAsync([.. ids.Where(id => !working.ContainsKey(id))], ct).ConfigureAwait(false))
        {
            working[id] = context;
        }

        var events = new List<DeliveryEvent>();
        var changed = new Dictionary<string, MessageContext>(StringComparer.Ordinal);
        var finished = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (ordering, journalEvent) in batch)
        {
            if (QueueIdOf(journalEvent) is not { } id)
            {
                continue;
            }

            var result = EventMapper.Map(ordering, journalEvent, working.GetValueOrDefault(id), classifier);
            events.AddRange(result.Events);
            if (result.Finished)
            {
                working.Remove(id);
                changed.Remove(id);
                finished.Add(id);
            }
            else if (result.Context is { } context)
            {
                working[id] = changed[id] = context;
                finished.Remove(id);
            }
        }

        await store.CommitProjectionAsync(Name, events, changed.Values, batch[^1].Ordering, clock.GetUtcNow(), ct, finished).ConfigureAwait(false);
        foreach (var id in finished)
        {
            _cache.Remove(id);
        }

        if (_cache.Count + changed.Count > CacheLimit)
        {
            _cache.Clear();
        }

        foreach (var (id, context) in changed)
        {
            _cache[id] = context;
        }

        metrics?.Projected.Inc(events.Count);
        metrics?.ProjectionOffset.Set(batch[^1].Ordering);
    }

    private static string? QueueIdOf(object journalEvent) => journalEvent switch
    {
        ReceptionDetails d => d.MessageId,
        Enqueued e => e.MessageId,
        AttemptDetails a => a.MessageId,
        AttemptCompleted a => a.MessageId,
        _ => null,
    };
}
