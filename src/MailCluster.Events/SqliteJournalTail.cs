using Akka;
using Akka.Streams.Dsl;
using Akka.Util;
using Microsoft.Data.Sqlite;

namespace MailCluster.Events;

/// <summary>
/// The embedded journal's events in ordering order, read straight from its table (<c>journal</c> in <c>journal.db</c>) for
/// the journal projections: one indexed range query per batch and the queue serializer's own deserialization, where
/// Akka.Persistence.Query's <c>AllEvents</c> adds a sequence actor, linq2db row materialization and several stream
/// stages per row (measured: the second-largest cost of the delivery events per message, paid once per projection).
/// <para>Why no event is skipped: on SQLite one connection writes at a time, and a write transaction takes its orderings
/// (AUTOINCREMENT) and commits before the next one can write, so a reader never sees an ordering while a lower one is
/// still to come. Rows deleted by the journal compaction are below every projection's offset. Only the domain queues'
/// rows (the queue serializer's) are read: nothing else in the journal is projected.</para>
/// </summary>
public static class SqliteJournalTail
{
    public const int BatchSize = 500;

    /// <summary>How long an empty read waits before the next: the projections' latency when idle.</summary>
    public static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    private const string Query = """
        SELECT ordering, manifest, message FROM journal
        WHERE ordering > $after AND identifier = $serializer
        ORDER BY ordering LIMIT $limit
        """;

    /// <summary>The events after <paramref name="after"/>, then every event written later, for ever.</summary>
    /// <param name="deserialize">Turns a row's payload and manifest into the event (the queue serializer).</param>
    /// <param name="reads">False for a manifest whose rows are passed by unread (<see cref="UnreadJournalRow"/>); null: all read.</param>
    public static Source<(long Ordering, object Event), NotUsed> From(
        string path, int serializerId, Func<byte[], string, object> deserialize, long after, Func<string, bool>? reads = null) =>
        Source.UnfoldAsync<long, IReadOnlyList<(long Ordering, object Event)>>(after, async last =>
            {
                var rows = Read(path, serializerId, deserialize, last, reads);
                if (rows.Count == 0)
                {
                    await Task.Delay(Poll).ConfigureAwait(false);
                }

                return Option<(long, IReadOnlyList<(long Ordering, object Event)>)>.Create((rows.Count == 0 ? last : rows[^1].Ordering, rows));
            })
            .SelectMany(rows => rows);

    /// <summary>One batch: at most <see cref="BatchSize"/> rows above <paramref name="after"/>, each deserialized, or
    /// passed by as <see cref="UnreadJournalRow"/> when <paramref name="reads"/> says its manifest is not read.</summary>
    public static IReadOnlyList<(long Ordering, object Event)> Read(
        string path, int serializerId, Func<byte[], string, object> deserialize, long after, Func<string, bool>? reads = null)
    {
        ArgumentNullException.ThrowIfNull(deserialize);
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=True");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = Query;
        command.Parameters.AddWithValue("$after", after);
        command.Parameters.AddWithValue("$serializer", serializerId);
        command.Parameters.AddWithValue("$limit", BatchSize);
        var rows = new List<(long, object)>();
        SqliteDataReader reader;
        try
        {
            reader = command.ExecuteReader();
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 1 && e.Message.Contains("no such table", StringComparison.Ordinal))
        {
            return rows; // a fresh node: Akka.Persistence.Sql creates the journal table at its first use, after this read
        }

        using (reader)
        {
            while (reader.Read())
            {
                var manifest = reader.GetString(1);
                rows.Add((reader.GetInt64(0), reads is null || reads(manifest) ? deserialize((byte[])reader.GetValue(2), manifest) : UnreadJournalRow.Instance));
            }
        }

        return rows;
    }
}
