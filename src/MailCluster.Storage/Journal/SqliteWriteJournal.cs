using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.Persistence.Sql.Journal;
using Akka.Serialization;
using Akka.Util;

namespace MailCluster.Storage.Journal;

/// <summary>
/// The embedded (SQLite) journal: Akka.Persistence.Sql's journal with its writes done here. Akka.Persistence.Sql builds
/// each batch's INSERT through linq2db (the statement's tree, its SQL text, reflection over the row type) on the
/// journal's one thread, which cost more than the SQLite work itself (docs/BENCHMARKS.md, "Session s34"). Here the
/// rows are the same (<see cref="JournalRowInsert"/>: same table, columns, serialization and manifests as
/// Akka.Persistence.Sql's <c>ByteArrayJournalSerializer</c>), written with one prepared statement; replay, the highest
/// sequence number, deletion, the snapshot store and the queries stay Akka.Persistence.Sql's, so what either wrote
/// the other reads. Writes from several persistent actors are committed together, as Akka.Persistence.Sql's write
/// queue did: each write joins a pending batch and the first one asks the journal (itself) to flush it; the flush
/// runs on the journal's thread (<see cref="StorageHosting.SqliteJournalDispatcherId"/>, shared with the snapshot
/// store and the compaction's turns, so none of them meets another's write lock) after the writes already in its
/// mailbox have joined. A write completes only after its batch committed (fsync); a failed commit fails every write
/// of the batch, a payload that cannot be serialized rejects only its own write. A tagged event (none are written
/// today) goes through Akka.Persistence.Sql's own path, which also writes its tag rows.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "An actor: its connection is disposed in PostStop.")]
public sealed class SqliteWriteJournal : SqlWriteJournal
{
    private readonly JournalRowInsert rows;
    private readonly string writerUuid = Guid.NewGuid().ToString("N");
    private readonly Serialization serialization;
    private readonly List<PendingWrite> pending = [];
    private readonly Dictionary<string, Task> inProgress = new(StringComparer.Ordinal);
    private IActorRef? self;

    public SqliteWriteJournal(Config journalConfig)
        : base(journalConfig)
    {
        ArgumentNullException.ThrowIfNull(journalConfig);
        var connectionString = journalConfig.GetString("connection-string");
        if (string.IsNullOrEmpty(connectionString))
        {
            throw new ConfigurationException("akka.persistence.journal.sql.connection-string is empty: the embedded journal needs its SQLite file");
        }

        rows = new JournalRowInsert(connectionString);
        serialization = Context.System.Serialization;
    }

    protected override void PreStart()
    {
        self = Self;
        base.PreStart();
    }

    protected override void PostStop()
    {
        PendingWrite[] left;
        lock (pending)
        {
            left = [.. pending];
            pending.Clear();
        }

        Fail(left, new InvalidOperationException("The journal stopped before the write was committed."));
        rows.Dispose();
        base.PostStop();
    }

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages as IReadOnlyList<AtomicWrite> ?? messages.ToList();
        if (writes.Any(w => ((IEnumerable<IPersistentRepresentation>)w.Payload).Any(p => p.Payload is Tagged)))
        {
            return base.WriteMessagesAsync(writes, cancellationToken);
        }

        // One persistent actor's writes (Akka sends each actor's batch on its own).
        var write = Serialize(writes, DateTime.UtcNow.Ticks);
        bool first;
        lock (pending)
        {
            first = pending.Count == 0;
            pending.Add(write);
            inProgress[write.PersistenceId] = write.Done.Task;
        }

        if (first)
        {
            self!.Tell(Flush.Instance);
        }

        return write.Done.Task;
    }

    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        // A restarting actor must not read its highest sequence number before its outstanding writes finished.
        Task? write;
        lock (pending)
        {
            inProgress.TryGetValue(persistenceId, out write);
        }

        if (write is not null)
        {
            try
            {
                await write.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Whether it succeeded or not, only its end matters here; its writer was told.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        return await base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken).ConfigureAwait(false);
    }

    protected override bool ReceivePluginInternal(object message)
    {
        if (message is not Flush)
        {
            return base.ReceivePluginInternal(message);
        }

        PendingWrite[] batch;
        lock (pending)
        {
            batch = [.. pending];
            pending.Clear();
        }

        try
        {
            rows.Run(batch.SelectMany(w => w.Rows));
        }
#pragma warning disable CA1031 // The commit's failure belongs to every write of the batch (WriteMessagesFailed).
        catch (Exception e)
#pragma warning restore CA1031
        {
            Fail(batch, e);
            return true;
        }

        foreach (var write in batch)
        {
            write.Done.TrySetResult(write.Results);
            Forget(write);
        }

        return true;
    }

    private void Fail(IEnumerable<PendingWrite> writes, Exception e)
    {
        foreach (var write in writes)
        {
            write.Done.TrySetException(e);
            Forget(write);
        }
    }

    /// <summary>Ends the write's "in progress" unless a later write of the same actor took its place.</summary>
    private void Forget(PendingWrite write)
    {
        lock (pending)
        {
            if (inProgress.TryGetValue(write.PersistenceId, out var latest) && latest == write.Done.Task)
            {
                inProgress.Remove(write.PersistenceId);
            }
        }
    }

    /// <summary>Each atomic write's rows, or the exception that rejects it (its rows are then not written).</summary>
    private PendingWrite Serialize(IReadOnlyList<AtomicWrite> writes, long now)
    {
        var results = new Exception?[writes.Count];
        var serialized = new List<JournalRowValues>(writes.Count);
        for (var i = 0; i < writes.Count; i++)
        {
            var first = serialized.Count;
            try
            {
                foreach (var representation in (IEnumerable<IPersistentRepresentation>)writes[i].Payload)
                {
                    serialized.Add(Row(representation, now));
                }
            }
#pragma warning disable CA1031 // A payload that cannot be serialized rejects its own write (WriteMessageRejected).
            catch (Exception e)
#pragma warning restore CA1031
            {
                results[i] = e;
                serialized.RemoveRange(first, serialized.Count - first);
            }
        }

        return new PendingWrite(writes.Count > 0 ? writes[0].PersistenceId : string.Empty, serialized, results.ToImmutableList()!);
    }

    /// <summary>As Akka.Persistence.Sql's <c>ByteArrayJournalSerializer</c> makes a row (serializer, manifest, the
    /// transport information for actor references in the payload, the representation's own timestamp if it has one).</summary>
    private JournalRowValues Row(IPersistentRepresentation representation, long now)
    {
        var payload = representation.Payload;
        var serializer = serialization.FindSerializerFor(payload);
        var manifest = serializer switch
        {
            SerializerWithStringManifest withManifest => withManifest.Manifest(payload),
            { IncludeManifest: true } => payload.GetType().TypeQualifiedName(),
            _ => string.Empty,
        };
        var message = Serialization.WithTransport(serialization.System, (serializer, payload), static s => s.serializer.ToBinary(s.payload));
        return new JournalRowValues(
            representation.Timestamp == 0 ? now : representation.Timestamp,
            representation.PersistenceId,
            representation.SequenceNr,
            message,
            manifest,
            serializer.Identifier,
            writerUuid);
    }

    /// <summary>One persistent actor's write: its rows, and per atomic write null or the exception that rejected it.</summary>
    private sealed record PendingWrite(string PersistenceId, List<JournalRowValues> Rows, IImmutableList<Exception> Results)
    {
        public TaskCompletionSource<IImmutableList<Exception>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Flush
    {
        public static readonly Flush Instance = new();
    }
}
