using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace MailCluster.Queue.Tests.Actors;

/// <summary>An in-memory journal whose writes take <see cref="WriteDelay"/> (a slow database), so a test can act
/// while a write is in flight.</summary>
public sealed class SlowJournal : MemoryJournal
{
    public static TimeSpan WriteDelay { get; set; } = TimeSpan.Zero;

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        await Task.Delay(WriteDelay, cancellationToken).ConfigureAwait(false);
        return await base.WriteMessagesAsync(messages, cancellationToken).ConfigureAwait(false);
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
