namespace MailCluster.Queue.Gates;

/// <summary>How long a lease lives without renewal, and how often a holder renews.</summary>
/// <param name="Ttl">A lease not renewed for this long is freed: the backstop for a release that never arrived.</param>
public sealed record GateTimings(TimeSpan Ttl)
{
    public static readonly GateTimings Default = new(TimeSpan.FromSeconds(30));

    /// <summary>Holders renew (and re-send requests still waiting) this often: three renewals per TTL, so a lease
    /// survives two lost renewals.</summary>
    public TimeSpan RenewEvery => Ttl / 3;

    /// <summary>How long a fresh gate grants nothing new unless every holder has re-announced sooner: one renewal
    /// interval and a second for the renewal to travel.</summary>
    public TimeSpan Quiet => RenewEvery + TimeSpan.FromSeconds(1);
}

/// <summary>A connection slot given to <paramref name="LeaseId"/> of <paramref name="Node"/>: tell its holder.</summary>
public sealed record LeaseGrant(string LeaseId, string Node);

/// <summary>Message starts granted by the rate: <paramref name="Count"/> now, or none before <paramref name="RetryAt"/>.</summary>
public sealed record StartGrant(int Count, DateTimeOffset? RetryAt);

/// <summary>
/// The cluster-wide lease book of one destination domain (the state of its gate entity): connection slots under a
/// cap and message starts under a rate, for every node of the cluster. Deterministic and free of I/O: the caller
/// passes <c>now</c>, and each call returns the grants it made, in order (the actor only tells the holders).
/// <para>Contract. Slots: a request waits first come, first served while <see cref="Held"/> is at its cap; a request,
/// renewal or release may be repeated (lease ids are the holder's, unique); a lease or waiting request not renewed
/// within <see cref="GateTimings.Ttl"/> is freed, and so is every lease of a node removed from the cluster. A fresh
/// book (a gate that just started or moved) does not know the leases its predecessor granted: it grants nothing until
/// every node of its census has re-announced its leases (a renewal carries a node's whole set for the domain) or
/// <see cref="GateTimings.Quiet"/> has passed, by when every live holder has renewed. So the cap holds across a move.
/// Rate: starts are counted over a rolling minute at the time they are granted, in small batches. A fresh book grants
/// no start either until its census is complete (or quiet is over), and counts the starts each node re-announces
/// (<see cref="RestoreStarts"/>: its predecessors' grants, at their age), so the window is right across a move too.
/// What it cannot count: the starts of a node that never answers (it died or is cut off; it is not waited for beyond
/// the quiet period, and a node removed before the gate started is not asked at all): after a move the destination
/// may see those on top of the rate, within the one minute after them.</para>
/// </summary>
public sealed class GateLeases
{
    /// <summary>The rolling window of a rate per minute.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    private readonly GateTimings _timings;
    private readonly Dictionary<string, Lease> _held = new(StringComparer.Ordinal);
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly Dictionary<string, LinkedListNode<Waiter>> _waiting = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unheard;
    private readonly DateTimeOffset _quietUntil;
    private readonly GateStartWindow _starts = new();
    private readonly HashSet<string> _startsRestored = new(StringComparer.Ordinal);

    /// <summary>How soon a start asked for while the gate is quiet is asked for again (the census usually completes
    /// within milliseconds).</summary>
    public static readonly TimeSpan QuietStartRetry = TimeSpan.FromMilliseconds(250);

    /// <param name="census">The nodes that may hold leases of a predecessor (the cluster's delivery members).</param>
    public GateLeases(DateTimeOffset now, GateTimings timings, IEnumerable<string> census)
        : this(now, timings, census, Guid.NewGuid().ToString("N"))
    {
    }

    /// <param name="incarnation">This gate's id, unique per start: the starts it grants are logged under it by the
    /// nodes, so it can tell them from its predecessors' when they are re-announced.</param>
    public GateLeases(DateTimeOffset now, GateTimings timings, IEnumerable<string> census, string incarnation)
    {
        ArgumentNullException.ThrowIfNull(timings);
        ArgumentNullException.ThrowIfNull(census);
        ArgumentNullException.ThrowIfNull(incarnation);
        _timings = timings;
        _unheard = new HashSet<string>(census, StringComparer.Ordinal);
        _quietUntil = now + timings.Quiet;
        Incarnation = incarnation;
    }

    /// <summary>This gate's id (see the constructor).</summary>
    public string Incarnation { get; }

    /// <summary>Leases held now (connections opening, open or closing anywhere in the cluster).</summary>
    public int Held => _held.Count;

    /// <summary>Requests waiting for a slot.</summary>
    public int Waiting => _waiters.Count;

    /// <summary>Whether the fresh-gate quiet period still holds back new grants.</summary>
    public bool IsQuiet(DateTimeOffset now) => _unheard.Count > 0 && now < _quietUntil;

    /// <summary>Nothing to remember: no lease, no waiter, no start in the rate window (the gate may stop).</summary>
    public bool IsIdle(DateTimeOffset now) => _held.Count == 0 && _waiters.Count == 0 && _starts.Count(now) == 0;

    /// <summary>Asks for a slot under <paramref name="cap"/> (at least 1). A lease already held is granted again
    /// (the first answer may have been lost); a request already waiting keeps its place.</summary>
    public IReadOnlyList<LeaseGrant> Acquire(string leaseId, string node, int cap, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(leaseId);
        ArgumentNullException.ThrowIfNull(node);
        if (_held.TryGetValue(leaseId, out var lease))
        {
            _held[leaseId] = lease with { ExpiresAt = now + _timings.Ttl };
            return [new LeaseGrant(leaseId, lease.Node), .. GrantWaiters(now)];
        }

        if (_waiting.TryGetValue(leaseId, out var waiting))
        {
            waiting.Value.ExpiresAt = now + _timings.Ttl;
        }
        else
        {
            _waiting[leaseId] = _waiters.AddLast(new Waiter(leaseId, node, Math.Max(1, cap)) { ExpiresAt = now + _timings.Ttl });
        }

        return GrantWaiters(now);
    }

    /// <summary><paramref name="node"/>'s whole set of leases of this domain: each is (re-)registered as held, even
    /// above the cap (its connection is open already), and the node counts as heard for the census.</summary>
    public IReadOnlyList<LeaseGrant> Renew(string node, IEnumerable<string> leaseIds, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(leaseIds);
        foreach (var leaseId in leaseIds)
        {
            RemoveWaiter(leaseId);
            _held[leaseId] = new Lease(node, now + _timings.Ttl);
        }

        _unheard.Remove(node);
        return GrantWaiters(now);
    }

    /// <summary>A lease given back, or a waiting request withdrawn; unknown ids are ignored (a repeated release).</summary>
    public IReadOnlyList<LeaseGrant> Release(string leaseId, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(leaseId);
        _held.Remove(leaseId);
        RemoveWaiter(leaseId);
        return GrantWaiters(now);
    }

    /// <summary>A node left the cluster: its connections are gone with it, so are its leases and requests.</summary>
    public IReadOnlyList<LeaseGrant> RemoveNode(string node, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(node);
        foreach (var leaseId in _held.Where(kv => kv.Value.Node == node).Select(kv => kv.Key).ToList())
        {
            _held.Remove(leaseId);
        }

        foreach (var waiter in _waiters.Where(w => w.Node == node).ToList())
        {
            RemoveWaiter(waiter.LeaseId);
        }

        _unheard.Remove(node);
        return GrantWaiters(now);
    }

    /// <summary>The passing of time: leases and requests past their TTL are freed, the quiet period may end.</summary>
    public IReadOnlyList<LeaseGrant> Tick(DateTimeOffset now) => GrantWaiters(now);

    /// <summary>Up to <paramref name="wanted"/> message starts under <paramref name="ratePerMinute"/> (at least 1),
    /// recorded now; none, with the time to ask again, when the last minute used the rate or the census is not
    /// complete (the predecessors' starts are not all known yet).</summary>
    public StartGrant TakeStarts(int wanted, int ratePerMinute, DateTimeOffset now)
    {
        if (IsQuiet(now))
        {
            var retry = now + QuietStartRetry;
            return new StartGrant(0, retry < _quietUntil ? retry : _quietUntil);
        }

        return _starts.Take(wanted, ratePerMinute, now);
    }

    /// <summary><paramref name="node"/>'s starts of the last window, as it re-announces them: those granted by another
    /// incarnation (a predecessor) are counted at <c>now</c> minus their age. Only a node's first announcement to this
    /// gate counts (it re-sends them every renewal interval; a predecessor grants nothing more once this gate exists).
    /// </summary>
    public void RestoreStarts(string node, IEnumerable<RecentStart> starts, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(starts);
        if (!_startsRestored.Add(node))
        {
            return;
        }

        foreach (var start in starts.Where(s => s.Gate != Incarnation))
        {
            _starts.Add(now - TimeSpan.FromSeconds(Math.Max(0, start.AgeSeconds)), start.Count);
        }
    }

    private List<LeaseGrant> GrantWaiters(DateTimeOffset now)
    {
        foreach (var expired in _held.Where(kv => kv.Value.ExpiresAt <= now).Select(kv => kv.Key).ToList())
        {
            _held.Remove(expired);
        }

        foreach (var expired in _waiters.Where(w => w.ExpiresAt <= now).ToList())
        {
            RemoveWaiter(expired.LeaseId);
        }

        var granted = new List<LeaseGrant>();
        while (!IsQuiet(now) && _waiters.First is { } first && _held.Count < first.Value.Cap)
        {
            RemoveWaiter(first.Value.LeaseId);
            _held[first.Value.LeaseId] = new Lease(first.Value.Node, now + _timings.Ttl);
            granted.Add(new LeaseGrant(first.Value.LeaseId, first.Value.Node));
        }

        return granted;
    }

    private void RemoveWaiter(string leaseId)
    {
        if (_waiting.Remove(leaseId, out var node))
        {
            _waiters.Remove(node);
        }
    }

    private sealed record Lease(string Node, DateTimeOffset ExpiresAt);

    private sealed class Waiter(string leaseId, string node, int cap)
    {
        public string LeaseId { get; } = leaseId;

        public string Node { get; } = node;

        public int Cap { get; } = cap;

        public DateTimeOffset ExpiresAt { get; set; }
    }
}
