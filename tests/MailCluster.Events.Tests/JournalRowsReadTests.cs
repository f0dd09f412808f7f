using MailCluster.Queue.Events;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Serialization;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.Events.Tests;

/// <summary>
/// The journal rows a projection does not read are passed by undeserialized (<see cref="UnreadJournalRow"/>), still
/// carrying their ordering so that the projection's offset moves past them; and no projection skips a row it would
/// have found relevant.
/// </summary>
public sealed class JournalRowsReadTests : IDisposable
{
    private const int QueueSerializerId = 940;
    private static readonly DateTimeOffset At = new(2026, 12, 8, 1, 0, 0, TimeSpan.Zero);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("mc-rows-read-");

    /// <summary>One of each event type the domain queues persist, as a projection may meet them in the journal.</summary>
    private static readonly object[] Persisted =
    [
        new Enqueued("example.com", "Q1", "alice@example.org", ["a@example.com"], At),
        new AttemptCompleted("Q1", At, [new RecipientResult("a@example.com", RecipientResultKind.Failed, 550, "5.1.1", "no such user", null)], "mx", null),
        new AttemptCompleted("Q2", At, [new RecipientResult("b@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null)], "mx", null),
        new ReceptionDetails("Q1", "<m1@example.org>", 12, null, null, null, "127.0.0.9", null, null, "node-a"),
        new AttemptDetails("Q1", At, "mx.example.com", "127.0.0.2:25", null, null, "node-a"),
        new MessageAbandoned("Q1", At, "body missing"),
        new DsnQueued("Q1", At, ["a@example.com"], "Q9"),
        new QueueFlushed(At),
        new MessageDeleted("Q1", At),
        new MessageOnHold("Q1", At),
    ];

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Delete(recursive: true);
    }

    [Fact]
    public void Every_persisted_event_a_projection_finds_relevant_is_of_a_type_it_reads()
    {
        IJournalProjection[] projections = [new EventProjection(null!, null, null, TimeProvider.System), Suppression()];
        foreach (var projection in projections)
        {
            foreach (var e in Persisted.Where(projection.Relevant))
            {
                Assert.True(projection.Reads(e.GetType()), $"{projection.Name} finds {e.GetType().Name} relevant but does not read it");
            }

            Assert.False(projection.Relevant(UnreadJournalRow.Instance));
        }

        // What the filter is for: the suppressions read attempts only, the delivery events no DSN, flush or hold rows.
        Assert.False(Suppression().Reads(typeof(Enqueued)));
        Assert.True(Suppression().Reads(typeof(AttemptCompleted)));
        Assert.Equal(
            [typeof(Enqueued), typeof(AttemptCompleted), typeof(AttemptCompleted), typeof(ReceptionDetails), typeof(AttemptDetails)],
            Persisted.Select(e => e.GetType()).Where(EventProjection.Reads));
    }

    [Fact]
    public void Both_versions_of_a_manifest_name_the_same_type_and_an_unknown_one_none()
    {
        Assert.Equal(typeof(Enqueued), QueueSerializer.TypeOf(QueueSerializer.Manifests[typeof(Enqueued)]));
        Assert.Equal(typeof(Enqueued), QueueSerializer.TypeOf(QueueSerializer.EnqueuedWithDetails));
        Assert.Equal(typeof(AttemptCompleted), QueueSerializer.TypeOf(QueueSerializer.AttemptWithDetails));
        Assert.Null(QueueSerializer.TypeOf("mc.queue.from-a-later-release.v1"));
    }

    [Fact]
    public void The_sqlite_tail_passes_rows_it_does_not_read_by_with_their_ordering_and_never_deserializes_them()
    {
        var path = Path.Combine(_dir.FullName, "journal.db");
        using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = """
                CREATE TABLE journal (ordering INTEGER PRIMARY KEY AUTOINCREMENT, identifier INTEGER NOT NULL, manifest TEXT NOT NULL, message BLOB NOT NULL);
                INSERT INTO journal (identifier, manifest, message) VALUES
                    (940, 'read', X'61'), (940, 'skip', X'62'), (1, 'read', X'63'), (940, 'skip', X'64'), (940, 'read', X'65');
                """;
            create.ExecuteNonQuery();
        }

        var deserialized = new List<string>();
        var rows = SqliteJournalTail.Read(
            path, QueueSerializerId, (bytes, manifest) => { deserialized.Add(manifest); return System.Text.Encoding.ASCII.GetString(bytes); }, 0, m => m == "read");

        // Ordering 3 is another serializer's row (not the queues'): not handed on, as before.
        Assert.Equal([1L, 2, 4, 5], rows.Select(r => r.Ordering));
        Assert.Equal(["a", UnreadJournalRow.Instance, UnreadJournalRow.Instance, "e"], rows.Select(r => r.Event));
        Assert.Equal(["read", "read"], deserialized);
        Assert.Equal(2, SqliteJournalTail.Read(path, QueueSerializerId, (_, m) => m, 2, m => m == "read").Count);
    }

    private static SuppressionProjection Suppression() => new(null!, null!, null!, null!, null!, TimeProvider.System);
}
