using System.Collections.Concurrent;
using System.Globalization;
using Akka;
using Akka.Streams.Dsl;
using Akka.Util;
using Npgsql;

namespace MailCluster.Events;

/// <summary>
/// The PostgreSQL journal's events in ordering order, read straight from its table for the journal projections: one
/// indexed range query per batch (prepared) and the queue serializer's own deserialization, where Akka.Persistence.Query's
/// <c>AllEvents</c> adds a sequence actor, linq2db row materialization and several stream stages per row (measured on
/// a PostgreSQL node, docs/BENCHMARKS.md: end to end 2.17 → 1.97 CPU-ms per message; the larger share of the events'
/// cost was the projection's writes, see <see cref="PostgresEventWrites"/>). Each read also returns
/// its own snapshot's xmin and xmax, which <see cref="JournalGapCursor"/> needs to tell a gap that a transaction still
/// in flight will fill from one that will never be filled. Every row's ordering is read (gaps are counted over the whole
/// journal); only the domain queues' rows (the queue serializer's) carry their payload and are handed on.
/// </summary>
public static class PostgresJournalTail
{
    public const int BatchSize = 500;

    /// <summary>How long the tail waits after a read that was not a full batch of rows handed on (an idle journal, the
    /// end of the backlog, or a gap): the projections' latency, and how often a gap is looked at again. Reading again at
    /// once would re-read every row above a gap until its transaction commits, and at a few thousand events a second
    /// make a query per handful of rows (measured: more CPU than Akka.Persistence.Query's AllEvents).</summary>
    public static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    private const string Query = """
        SELECT j.ordering, j.manifest, CASE WHEN j.identifier = @serializer THEN j.message END,
               pg_snapshot_xmin(s.snap)::text, pg_snapshot_xmax(s.snap)::text
        FROM (SELECT pg_current_snapshot() AS snap) s
        LEFT JOIN LATERAL (
            SELECT ordering, identifier, manifest, message FROM journal
            WHERE ordering > @after ORDER BY ordering LIMIT @limit) j ON true
        """;

    private static readonly ConcurrentDictionary<string, NpgsqlDataSource> Sources = new(StringComparer.Ordinal);

    /// <summary>The events after <paramref name="after"/>, then every event committed later, for ever.</summary>
    /// <param name="deserialize">Turns a row's payload and manifest into the event (the queue serializer).</param>
    /// <param name="reads">False for a manifest whose rows are passed by unread (<see cref="UnreadJournalRow"/>); null: all read.</param>
    public static Source<(long Ordering, object Event), NotUsed> From(
        string connectionString, int serializerId, Func<byte[], string, object> deserialize, long after, TimeProvider clock, Func<string, bool>? reads = null) =>
        Source.UnfoldAsync<JournalGapCursor, IReadOnlyList<(long Ordering, object Event)>>(new JournalGapCursor(after), async cursor =>
            {
                var before = cursor.After;
                var rows = await ReadAsync(connectionString, serializerId, deserialize, cursor, clock, reads).ConfigureAwait(false);
                if (cursor.After - before < BatchSize || cursor.Waiting)
                {
                    await Task.Delay(Poll, clock).ConfigureAwait(false);
                }

                return Option<(JournalGapCursor, IReadOnlyList<(long Ordering, object Event)>)>.Create((cursor, rows));
            })
            .SelectMany(rows => rows);

    /// <summary>One read of at most <see cref="BatchSize"/> rows above the cursor; returns the queue events the cursor
    /// lets through (fewer than the rows read when it stops at a gap) and moves the cursor past them; a row whose manifest
    /// <paramref name="reads"/> does not read is handed on as <see cref="UnreadJournalRow"/>.</summary>
    public static async Task<IReadOnlyList<(long Ordering, object Event)>> ReadAsync(
        string connectionString, int serializerId, Func<byte[], string, object> deserialize, JournalGapCursor cursor, TimeProvider clock,
        Func<string, bool>? reads = null)
    {
        ArgumentNullException.ThrowIfNull(deserialize);
        ArgumentNullException.ThrowIfNull(cursor);
        ArgumentNullException.ThrowIfNull(clock);
        var source = Sources.GetOrAdd(connectionString, cs => NpgsqlDataSource.Create(PostgresPooling.WithoutReset(cs)));
        await using var connection = await source.OpenConnectionAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(Query, connection);
        command.Parameters.AddWithValue("serializer", serializerId);
        command.Parameters.AddWithValue("after", cursor.After);
        command.Parameters.AddWithValue("limit", BatchSize);
        var orderings = new List<long>();
        var payloads = new List<(byte[]? Message, string Manifest)>();
        ulong xmin = 0, xmax = 0;
        NpgsqlDataReader opened;
        try
        {
            await command.PrepareAsync().ConfigureAwait(false);
            opened = await command.ExecuteReaderAsync().ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return []; // a fresh database: Akka.Persistence.Sql creates the journal table at its first use, after this read
        }

        await using (var reader = opened)
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                xmin = ulong.Parse(reader.GetString(3), CultureInfo.InvariantCulture);
                xmax = ulong.Parse(reader.GetString(4), CultureInfo.InvariantCulture);
                if (reader.IsDBNull(0))
                {
                    break; // no row above the cursor: the LEFT JOIN's one row carries only the snapshot
                }

                orderings.Add(reader.GetInt64(0));
                payloads.Add((reader.IsDBNull(2) ? null : (byte[])reader.GetValue(2), reader.IsDBNull(1) ? "" : reader.GetString(1)));
            }
        }

        var accepted = cursor.Accept(orderings, xmin, xmax, clock.GetUtcNow());
        var events = new List<(long, object)>(accepted);
        for (var i = 0; i < accepted; i++)
        {
            if (payloads[i] is { Message: { } message, Manifest: var manifest })
            {
                events.Add((orderings[i], reads is null || reads(manifest) ? deserialize(message, manifest) : UnreadJournalRow.Instance));
            }
        }

        return events;
    }
}
