using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace MailCluster.Queue.Tests.Actors;

/// <summary>
/// An in-memory journal whose writes wait at their actor system's <see cref="JournalGate"/> while the test keeps it
/// closed, so a test can act while a write is in flight, and knows that it is (<see cref="JournalGate.WriteWaiting"/>),
/// on any machine however slow. The gate belongs to the actor system: test classes never share it.
/// </summary>
public sealed class GatedJournal : MemoryJournal
{
    private readonly JournalGate _gate = JournalGate.Of(Context.System);

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        await _gate.PassAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        return await base.WriteMessagesAsync(messages, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The gate of one actor system's <see cref="GatedJournal"/>; open until the test closes it.</summary>
public sealed class JournalGate : IExtension
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _open = Completed();
    private TaskCompletionSource _waiting = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static JournalGate Of(ActorSystem system) => system.WithExtension<JournalGate, Provider>();

    /// <summary>Completes once a journal write waits at the closed gate (the write is in flight, not yet stored).</summary>
    public Task WriteWaiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Task;
            }
        }
    }

    /// <summary>Writes from now on wait until <see cref="Open"/>.</summary>
    public void Close()
    {
        lock (_lock)
        {
            if (_open.Task.IsCompleted)
            {
                _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>Lets the waiting writes, and every later one, through.</summary>
    public void Open()
    {
        lock (_lock)
        {
            _open.TrySetResult();
        }
    }

    internal Task PassAsync()
    {
        lock (_lock)
        {
            if (!_open.Task.IsCompleted)
            {
                _waiting.TrySetResult();
            }

            return _open.Task;
        }
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.TrySetResult();
        return done;
    }

    private sealed class Provider : ExtensionIdProvider<JournalGate>
    {
        public override JournalGate CreateExtension(ExtendedActorSystem system) => new();
    }
}

/// <summary>An in-memory journal whose recoveries fail while a persistence id has failures left (a database outage
/// as a domain queue sees it), recording when each recovery was tried.</summary>
public sealed class FailingJournal : MemoryJournal
{
    private static readonly ConcurrentDictionary<string, int> FailuresLeft = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>> Tries = new(StringComparer.Ordinal);

    public static void FailRecoveries(string persistenceId, int times) => FailuresLeft[persistenceId] = times;

    public static IReadOnlyList<DateTimeOffset> RecoveryTries(string persistenceId) =>
        Tries.TryGetValue(persistenceId, out var tries) ? [.. tries] : [];

    public override Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        Tries.GetOrAdd(persistenceId, _ => new ConcurrentQueue<DateTimeOffset>()).Enqueue(DateTimeOffset.UtcNow);
        if (FailuresLeft.TryGetValue(persistenceId, out int left) && left > 0)
        {
            FailuresLeft[persistenceId] = left - 1;
            return Task.FromException<long>(new InvalidOperationException("database is down (test)"));
        }

        return base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken);
    }
}

/// <summary>An in-memory journal that rejects (does not fail) each write holding an <see cref="Protocol.Enqueued"/> of a
/// message id named by <see cref="Reject"/>, as a journal rejects an event it cannot serialize: the actor is told, is
/// not stopped by Akka, and the events are not stored.</summary>
public sealed class RejectingJournal : MemoryJournal
{
    private static readonly ConcurrentDictionary<string, byte> Rejected = new(StringComparer.Ordinal);

    public static void Reject(string messageId) => Rejected[messageId] = 0;

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        var rejected = writes.Select(w => ((IImmutableList<IPersistentRepresentation>)w.Payload)
            .Any(p => p.Payload is Protocol.Enqueued e && Rejected.ContainsKey(e.MessageId))).ToList();
        var stored = await base.WriteMessagesAsync(writes.Where((_, i) => !rejected[i]), cancellationToken).ConfigureAwait(false);
        var results = ImmutableList.CreateBuilder<Exception?>();
        var next = 0;
        for (var i = 0; i < writes.Count; i++)
        {
            results.Add(rejected[i] ? new InvalidOperationException("rejected (test)") : stored?[next++]);
        }

        return results.ToImmutable();
    }
}
