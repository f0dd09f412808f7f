using System.Collections.Frozen;

namespace MailCluster.Queue.Suspensions;

/// <summary>
/// The destination suspensions in force on this node: the cluster database's set as last read (replaced whole every
/// 2 s by the ops feature's refresher, so a suspension set or lifted on any node is seen here within seconds). Reads are
/// lock-free (one volatile snapshot). Domain queues ask <see cref="UntilFor"/> before every scheduling step and
/// <see cref="Watch"/> their domain, so that a lifted or shortened suspension wakes them at once.
/// <para>Until the set has been read once (<see cref="Loaded"/> false, right after a start or a fail-over), every
/// domain counts as suspended for <see cref="UnknownRecheck"/> at a time: a queue recovered on a new node must not send
/// to a domain suspended cluster-wide because this node has not read the table yet. The first read wakes every
/// watcher.</para>
/// </summary>
public sealed class SuspensionSet
{
    /// <summary>How long a queue waits before looking again while the set has not been read yet.</summary>
    public static readonly TimeSpan UnknownRecheck = TimeSpan.FromSeconds(1);

    private readonly Lock _watchersLock = new();
    private readonly Dictionary<string, List<Action>> _watchers = new(StringComparer.Ordinal);
    private volatile Snapshot _current;

    /// <param name="loaded">False for a node's set before its first read; true for a set that starts empty and known
    /// (tests, or a node without a cluster database).</param>
    public SuspensionSet(bool loaded) =>
        _current = new Snapshot(FrozenDictionary<string, DestinationSuspension>.Empty, loaded);

    /// <summary>An empty, known set: nothing is suspended.</summary>
    public static SuspensionSet None => new(loaded: true);

    public bool Loaded => _current.Loaded;

    /// <summary>The suspensions active at <paramref name="now"/>, by domain.</summary>
    public IReadOnlyList<DestinationSuspension> Active(DateTimeOffset now) =>
        [.. _current.ByDomain.Values.Where(s => s.ActiveAt(now)).OrderBy(s => s.Domain, StringComparer.Ordinal)];

    /// <summary>The active suspension of <paramref name="domain"/>, or null.</summary>
    public DestinationSuspension? For(string domain, DateTimeOffset now) =>
        _current.ByDomain.TryGetValue(domain, out var s) && s.ActiveAt(now) ? s : null;

    /// <summary>Until when the queues of <paramref name="domain"/> start no delivery: its active suspension's end, or
    /// <paramref name="now"/> + <see cref="UnknownRecheck"/> while the set is not read yet; null when they may deliver.</summary>
    public DateTimeOffset? UntilFor(string domain, DateTimeOffset now) =>
        !_current.Loaded ? now + UnknownRecheck : For(domain, now)?.Until;

    /// <summary>Replaces the set with the database's (whole), then calls the watchers of every domain whose suspension
    /// was added, changed or removed (all of them on the first read).</summary>
    public void Replace(IEnumerable<DestinationSuspension> stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var byDomain = stored.GroupBy(s => s.Domain, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        var before = _current;
        _current = new Snapshot(byDomain, Loaded: true);
        var changed = before.Loaded
            ? byDomain.Keys.Union(before.ByDomain.Keys, StringComparer.Ordinal)
                .Where(d => !Equals(byDomain.GetValueOrDefault(d), before.ByDomain.GetValueOrDefault(d)))
            : null;
        foreach (var watcher in WatchersOf(changed))
        {
            watcher();
        }
    }

    /// <summary>Calls <paramref name="changed"/> (from the refresher's thread: tell an actor, do not work) whenever the
    /// suspension of <paramref name="domain"/> changes; dispose the result to stop.</summary>
    public IDisposable Watch(string domain, Action changed)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(changed);
        lock (_watchersLock)
        {
            if (!_watchers.TryGetValue(domain, out var list))
            {
                _watchers[domain] = list = [];
            }

            list.Add(changed);
        }

        return new Unwatch(this, domain, changed);
    }

    private List<Action> WatchersOf(IEnumerable<string>? domains)
    {
        lock (_watchersLock)
        {
            return domains is null
                ? [.. _watchers.Values.SelectMany(w => w)]
                : [.. domains.SelectMany(d => _watchers.TryGetValue(d, out var w) ? w : [])];
        }
    }

    private void Remove(string domain, Action changed)
    {
        lock (_watchersLock)
        {
            if (_watchers.TryGetValue(domain, out var list) && list.Remove(changed) && list.Count == 0)
            {
                _watchers.Remove(domain);
            }
        }
    }

    private sealed record Snapshot(FrozenDictionary<string, DestinationSuspension> ByDomain, bool Loaded);

    private sealed class Unwatch(SuspensionSet set, string domain, Action changed) : IDisposable
    {
        public void Dispose() => set.Remove(domain, changed);
    }
}
