using System.Reflection;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;
using Akka.Serialization;
using MailCluster.Storage.Journal;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>
/// The embedded journal's own writes (<see cref="SqliteWriteJournal"/>) are a storage format shared with
/// Akka.Persistence.Sql: what one writes the other replays, row for row. A payload that cannot be serialized rejects
/// only its own write, and writes of many actors at once are all committed and replayed.
/// </summary>
public sealed class SqliteWriteJournalTests() : NodeDirectoryTest("journal-writes")
{
    /// <summary>Notes are written by a serializer with a string manifest, as the queue's events are.</summary>
    private const string Notes = """
        akka.actor.serializers.note = "MailCluster.Storage.Tests.SqliteWriteJournalTests+NoteSerializer, MailCluster.Storage.Tests"
        akka.actor.serialization-bindings { "MailCluster.Storage.Tests.SqliteWriteJournalTests+Note, MailCluster.Storage.Tests" = note }
        """;

    private const string StockJournal = Notes + """
        akka.persistence.journal.sql.class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
        """;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task What_it_writes_Akka_Persistence_Sql_replays_and_the_other_way_round()
    {
        // 1. The embedded node's journal is this one; it writes three events.
        await StorageNode.RunAsync(new StorageOptions(), Directory, async services =>
        {
            var system = services.GetRequiredService<ActorSystem>();
            var recorder = system.ActorOf(Props.Create(() => new Recorder("p-1")));
            Assert.Equal("persisted", await recorder.Ask<string>("one", Wait, Ct));
            Assert.Equal("persisted", await recorder.Ask<string>("two", Wait, Ct));
            Assert.Equal("persisted", await recorder.Ask<string>("three", Wait, Ct));
            Assert.IsType<SqliteWriteJournal>(JournalActor(system));
        }, Ct, Notes);

        // 2. The rows are Akka.Persistence.Sql's: every column set as it sets them.
        var rows = Rows();
        Assert.Equal([1L, 2L, 3L], rows.Select(r => r.Sequence));
        Assert.All(rows, r =>
        {
            Assert.Equal("p-1", r.PersistenceId);
            Assert.Equal(0L, r.Deleted);
            Assert.InRange(new DateTime(r.Created, DateTimeKind.Utc), DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow);
            Assert.Matches("^[0-9a-f]{32}$", r.WriterUuid);
            Assert.Equal(NoteSerializer.Id, r.Identifier);
            Assert.Equal(NoteSerializer.NoteManifest, r.Manifest);
        });

        // 3. Akka.Persistence.Sql's own journal replays them, then appends two of its own.
        await StorageNode.RunAsync(new StorageOptions(), Directory, async services =>
        {
            var system = services.GetRequiredService<ActorSystem>();
            var recorder = system.ActorOf(Props.Create(() => new Recorder("p-1")));
            Assert.Equal(["one", "two", "three"], await recorder.Ask<string[]>(Recorder.Events, Wait, Ct));
            Assert.IsType<SqlWriteJournal>(JournalActor(system));
            Assert.Equal("persisted", await recorder.Ask<string>("four", Wait, Ct));
            Assert.Equal("persisted", await recorder.Ask<string>("five", Wait, Ct));
        }, Ct, StockJournal);

        // 4. And this journal's node replays all five, in order.
        await StorageNode.RunAsync(new StorageOptions(), Directory, async services =>
        {
            var recorder = services.GetRequiredService<ActorSystem>().ActorOf(Props.Create(() => new Recorder("p-1")));
            Assert.Equal(["one", "two", "three", "four", "five"], await recorder.Ask<string[]>(Recorder.Events, Wait, Ct));
        }, Ct, Notes);

        var all = Rows();
        Assert.Equal(5, all.Count);
        Assert.Equal(rows[0].Manifest, all[4].Manifest);
        Assert.Equal(rows[0].Identifier, all[4].Identifier);
    }

    [Fact]
    public Task A_payload_that_cannot_be_serialized_rejects_only_its_own_write() => StorageNode.RunAsync(new StorageOptions(), Directory, async services =>
    {
        var system = services.GetRequiredService<ActorSystem>();
        var bad = system.ActorOf(Props.Create(() => new Recorder("bad")));
        var good = system.ActorOf(Props.Create(() => new Recorder("good")));

        // 1. Sent together, so that both writes can meet in one flush.
        var rejected = bad.Ask<string>(new Unserializable(), Wait, Ct);
        var persisted = good.Ask<string>("fine", Wait, Ct);
        Assert.Equal("rejected", await rejected);
        Assert.Equal("persisted", await persisted);

        // 2. The actor whose write was rejected goes on persisting; nothing of the rejected event was written.
        Assert.Equal("persisted", await bad.Ask<string>("after", Wait, Ct));
        Assert.Equal(["after"], await bad.Ask<string[]>(Recorder.Events, Wait, Ct));
        Assert.Equal(["good", "bad"], Rows().Select(r => r.PersistenceId));
    }, Ct);

    [Fact]
    public async Task Writes_of_many_actors_at_once_are_all_committed_and_replayed()
    {
        const int Actors = 40;
        const int Events = 5;
        await StorageNode.RunAsync(new StorageOptions(), Directory, async services =>
        {
            var system = services.GetRequiredService<ActorSystem>();
            var recorders = Enumerable.Range(0, Actors).Select(i => system.ActorOf(Props.Create(() => new Recorder($"many-{i}")))).ToArray();
            for (var e = 0; e < Events; e++)
            {
                var round = recorders.Select(r => r.Ask<string>($"e{e}", Wait, Ct)).ToArray();
                Assert.All(await Task.WhenAll(round), reply => Assert.Equal("persisted", reply));
            }
        }, Ct);

        Assert.Equal(Actors * Events, Rows().Count);
        await StorageNode.RunAsync(new StorageOptions(), Directory, async services =>
        {
            var system = services.GetRequiredService<ActorSystem>();
            for (var i = 0; i < Actors; i++)
            {
                var recorder = system.ActorOf(Props.Create(() => new Recorder($"many-{i}")));
                Assert.Equal(Enumerable.Range(0, Events).Select(e => $"e{e}"), await recorder.Ask<string[]>(Recorder.Events, Wait, Ct));
            }
        }, Ct);
    }

    private static ActorBase JournalActor(ActorSystem system)
    {
        var journal = Persistence.Instance.Apply(system).JournalFor(null);
        var cell = (ActorCell)((ActorRefWithCell)journal).Underlying;
        return (ActorBase)typeof(ActorCell).GetProperty("Actor", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)!.GetValue(cell)!;
    }

    private List<JournalRow> Rows()
    {
        SqliteConnection.ClearAllPools();
        using var connection = new SqliteConnection($"Data Source={StorageOptions.SqliteJournalPath(Directory)};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT persistence_id, sequence_number, created, deleted, manifest, identifier, writer_uuid FROM journal " +
            "WHERE persistence_id NOT LIKE 'mc-%' ORDER BY ordering";
        using var reader = command.ExecuteReader();
        var rows = new List<JournalRow>();
        while (reader.Read())
        {
            rows.Add(new JournalRow(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetString(4), reader.GetInt64(5), reader.GetString(6)));
        }

        return rows;
    }

    /// <summary>The recorder's event.</summary>
    internal sealed record Note(string Text);

    /// <summary>Writes a <see cref="Note"/>'s text under a manifest, and reads nothing without it.</summary>
    internal sealed class NoteSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
    {
        public const int Id = 4711;
        public const string NoteManifest = "note.v1";

        public override int Identifier => Id;

        public override string Manifest(object o) => NoteManifest;

        public override byte[] ToBinary(object obj) => Encoding.UTF8.GetBytes(((Note)obj).Text);

        public override object FromBinary(byte[] bytes, string manifest) => manifest == NoteManifest
            ? new Note(Encoding.UTF8.GetString(bytes))
            : throw new SerializationException($"Unknown manifest '{manifest}'");
    }

    private sealed record JournalRow(string PersistenceId, long Sequence, long Created, long Deleted, string Manifest, long Identifier, string WriterUuid);

    /// <summary>Its serializer (JSON) fails on the property.</summary>
    private sealed class Unserializable
    {
#pragma warning disable CA1822 // An instance property, so that the serializer reads it.
        public string Value => throw new InvalidOperationException("cannot be serialized");
#pragma warning restore CA1822
    }

    private sealed class Recorder : ReceivePersistentActor
    {
        public const string Events = "events?";

        private readonly List<string> events = [];
        private IActorRef asker = ActorRefs.Nobody;

        public Recorder(string persistenceId)
        {
            PersistenceId = persistenceId;
            Recover<Note>(note => events.Add(note.Text));
            Command<string>(e => e == Events, _ => Sender.Tell(events.ToArray()));
            Command<string>(e =>
            {
                asker = Sender;
                Persist(new Note(e), persisted =>
                {
                    events.Add(persisted.Text);
                    asker.Tell("persisted");
                });
            });
            Command<Unserializable>(e =>
            {
                asker = Sender;
                Persist(e, _ => asker.Tell("persisted"));
            });
        }

        public override string PersistenceId { get; }

        protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
        {
            asker.Tell("rejected");
        }
    }
}
