using System.Data.Common;

namespace MailCluster.Events;

/// <summary>
/// The delivery-event projection's writes on PostgreSQL, set-wise: a batch's events in one INSERT over arrays and its
/// message contexts in one upsert, instead of a statement (and a round trip) per event and per context, which on a node
/// on PostgreSQL cost more than the rest of the projection (issue 19). SQLite keeps one prepared statement per row
/// (in process, no round trip). Called inside <see cref="EventStore"/>'s transactions, after its append lock.
/// </summary>
internal static class PostgresEventWrites
{
    /// <summary>PostgreSQL: the batch in one statement over arrays (one round trip, not one per event), offsets taken in
    /// the batch's order; an id already stored is skipped.</summary>
    public static async Task<IReadOnlyList<long>> AppendAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<DeliveryEvent> events, CancellationToken ct)
    {
        await using var command = EventStore.Command(connection, tx, """
            INSERT INTO mc_event(event_id, type, queue_id, recipient, at_ms, record)
            SELECT id, type, queue, recipient, at, record
            FROM unnest(@ids, @types, @queues, @recipients, @ats, @records) WITH ORDINALITY AS e(id, type, queue, recipient, at, record, n)
            ORDER BY n
            ON CONFLICT (event_id) DO NOTHING RETURNING event_offset
            """,
            ("ids", events.Select(e => e.EventId).ToArray()),
            ("types", events.Select(e => e.Type).ToArray()),
            ("queues", events.Select(e => e.QueueId ?? "").ToArray()),
            ("recipients", events.Select(e => e.Recipient.ToLowerInvariant()).ToArray()),
            ("ats", events.Select(e => e.Timestamp.ToUnixTimeMilliseconds()).ToArray()),
            ("records", events.Select(e => e.ToJson()).ToArray()));
        var offsets = new List<long>(events.Count);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            offsets.Add(reader.GetInt64(0));
        }

        offsets.Sort(); // RETURNING's row order is not promised; the offsets were taken in the batch's order
        return offsets;
    }

    /// <summary>PostgreSQL: the batch's message contexts in one upsert over arrays (the last context of a queue id wins,
    /// as with one upsert per context in order).</summary>
    public static async Task UpsertContextsAsync(DbConnection connection, DbTransaction tx, IEnumerable<MessageContext> contexts, DateTimeOffset now, CancellationToken ct)
    {
        var latest = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var context in contexts)
        {
            latest[context.QueueId] = context.ToJson();
        }

        if (latest.Count == 0)
        {
            return;
        }

        await EventStore.ExecuteAsync(connection, tx, """
            INSERT INTO mc_event_message(queue_id, context, at_ms)
            SELECT id, context, @at FROM unnest(@ids, @contexts) AS c(id, context)
            ON CONFLICT (queue_id) DO UPDATE SET context = excluded.context, at_ms = excluded.at_ms
            """, ct, ("ids", latest.Keys.ToArray()), ("contexts", latest.Values.ToArray()), ("at", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
    }
}
