using System.Collections.Immutable;

namespace MailCluster.Queue.State;

/// <summary>
/// The messages of a domain queue ordered by their next attempt (then arrival, then id), so that "what is due"
/// and "when is the next attempt" cost O(log n) per change instead of a walk over the whole queue. Immutable,
/// like the state that owns it; only messages with a pending recipient and not on an operator's hold are in it (a held
/// message is never due, so the scheduler never walks past it).
/// </summary>
public sealed class DueIndex
{
    public static readonly DueIndex Empty = new(ImmutableSortedSet<Key>.Empty.WithComparer(KeyComparer.Instance));

    private readonly ImmutableSortedSet<Key> _keys;

    private DueIndex(ImmutableSortedSet<Key> keys) => _keys = keys;

    public int Count => _keys.Count;

    /// <summary>Message ids in next-attempt order, each with the time its earliest recipient is due.</summary>
    public IEnumerable<(string MessageId, DateTimeOffset At)> InOrder()
    {
        foreach (var key in _keys)
        {
            yield return (key.MessageId, key.At);
        }
    }

    public static DueIndex Of(IEnumerable<QueuedMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var builder = ImmutableSortedSet.CreateBuilder<Key>(KeyComparer.Instance);
        foreach (var message in messages)
        {
            if (KeyOf(message) is { } key)
            {
                builder.Add(key);
            }
        }

        return new DueIndex(builder.ToImmutable());
    }

    /// <summary>Replaces <paramref name="before"/>'s entry (if any) by <paramref name="after"/>'s (if any).</summary>
    public DueIndex Update(QueuedMessage? before, QueuedMessage? after)
    {
        var old = before is null ? null : KeyOf(before);
        var now = after is null ? null : KeyOf(after);
        if (old == now)
        {
            return this;
        }

        var keys = _keys;
        if (old is { } o)
        {
            keys = keys.Remove(o);
        }

        if (now is { } n)
        {
            keys = keys.Add(n);
        }

        return new DueIndex(keys);
    }

    private static Key? KeyOf(QueuedMessage message) =>
        message.Pending.IsEmpty || message.IsOnHold ? null : new Key(message.NextAttemptAt, message.ArrivedAt, message.MessageId);

    private readonly record struct Key(DateTimeOffset At, DateTimeOffset ArrivedAt, string MessageId);

    private sealed class KeyComparer : IComparer<Key>
    {
        public static readonly KeyComparer Instance = new();

        public int Compare(Key x, Key y)
        {
            var c = x.At.UtcTicks.CompareTo(y.At.UtcTicks);
            if (c == 0)
            {
                c = x.ArrivedAt.UtcTicks.CompareTo(y.ArrivedAt.UtcTicks);
            }

            return c != 0 ? c : string.CompareOrdinal(x.MessageId, y.MessageId);
        }
    }
}
