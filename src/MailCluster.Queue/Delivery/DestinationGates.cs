namespace MailCluster.Queue.Delivery;

/// <summary>
/// One per node: the <see cref="DestinationGate"/> of every destination domain, shared by all the domain queues that
/// deliver there. A domain split into N buckets has N queues, each shaping its own deliveries; here their connections
/// share one connection cap and one message rate, so the destination sees the domain's limits, not N times them.
/// (Across nodes each node applies the limits on its own; a cluster-wide cap is issue #19.)
/// <para>Contract: a connection waits in <see cref="OpenAsync"/> for a slot before it opens and disposes the returned
/// lease once it is closed (or failed to open); a message takes a start in <see cref="StartAsync"/> before it is
/// sent. Waiters for a slot are served first come, first served. A wait that is cancelled takes nothing.</para>
/// </summary>
public sealed class DestinationGates(TimeProvider clock)
{
    /// <summary>When this many domains are tracked, the idle ones (no slot held, no start within the rate window) are
    /// forgotten before another is added: memory stays in proportion to the destinations active in the last minute.</summary>
    private const int PruneAbove = 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Domains with an entry now (for tests of the bound).</summary>
    public int Tracked
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Connections holding a slot of <paramref name="domain"/> now.</summary>
    public int OpenTo(string domain)
    {
        lock (_lock)
        {
            return _entries.TryGetValue(domain, out var entry) ? entry.Gate.Open : 0;
        }
    }

    /// <summary>Waits until a connection to <paramref name="domain"/> may open under <paramref name="cap"/>; the slot is
    /// held until the lease is disposed (once; a second dispose does nothing).</summary>
    public Task<IDisposable> OpenAsync(string domain, int cap, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(domain);
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_lock)
        {
            var entry = EntryOf(domain);
            if (entry.Waiters.Count == 0 && entry.Gate.CanOpen(cap))
            {
                entry.Gate = entry.Gate.Opened();
                return Task.FromResult<IDisposable>(new Lease(this, domain));
            }

            waiter = new Waiter(cap);
            waiter.Node = entry.Waiters.AddLast(waiter);
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.Register(() => Cancel(domain, waiter, cancellationToken));
        }

        return waiter.Granted.Task;
    }

    /// <summary>Waits until <paramref name="ratePerMinute"/> (null: no limit) lets one more message to
    /// <paramref name="domain"/> start, and records the start.</summary>
    public async Task StartAsync(string domain, int? ratePerMinute, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (ratePerMinute is null)
        {
            return;
        }

        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                var now = clock.GetUtcNow();
                var entry = EntryOf(domain);
                var next = entry.Gate.NextStart(now, ratePerMinute);
                if (next <= now)
                {
                    entry.Gate = entry.Gate.Started(now);
                    return;
                }

                wait = next - now;
            }

            await Task.Delay(wait, clock, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Release(string domain)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(domain, out var entry))
            {
                return;
            }

            entry.Gate = entry.Gate.Closed();
            while (entry.Waiters.First is { } first && entry.Gate.CanOpen(first.Value.Cap))
            {
                entry.Waiters.RemoveFirst();
                entry.Gate = entry.Gate.Opened();
                first.Value.Registration.Unregister(); // not Dispose: that waits for a running Cancel, which waits for this lock
                first.Value.Granted.SetResult(new Lease(this, domain));
            }

            if (entry.Waiters.Count == 0 && entry.Gate.IsIdle(clock.GetUtcNow()))
            {
                _entries.Remove(domain);
            }
        }
    }

    private void Cancel(string domain, Waiter waiter, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            // Granted already (under this lock): the lease is the waiter's to dispose.
            if (waiter.Node?.List is null)
            {
                return;
            }

            waiter.Node.List.Remove(waiter.Node);
            waiter.Granted.SetCanceled(cancellationToken);
        }
    }

    /// <summary>The entry of <paramref name="domain"/>, created if needed; called under the lock.</summary>
    private Entry EntryOf(string domain)
    {
        if (_entries.TryGetValue(domain, out var entry))
        {
            return entry;
        }

        if (_entries.Count >= PruneAbove)
        {
            var now = clock.GetUtcNow();
            foreach (var idle in _entries.Where(kv => kv.Value.Waiters.Count == 0 && kv.Value.Gate.IsIdle(now)).Select(kv => kv.Key).ToList())
            {
                _entries.Remove(idle);
            }
        }

        return _entries[domain] = new Entry();
    }

    private sealed class Entry
    {
        public DestinationGate Gate { get; set; } = DestinationGate.Idle;

        public LinkedList<Waiter> Waiters { get; } = new();
    }

    private sealed class Waiter(int cap)
    {
        public int Cap { get; } = cap;

        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        public TaskCompletionSource<IDisposable> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Lease(DestinationGates gates, string domain) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gates.Release(domain);
            }
        }
    }
}
