namespace MailCluster.Queue.Gates;

/// <summary>
/// The message starts this node was granted by the destination gates in the last <see cref="GateLeases.RateWindow"/>,
/// per domain, tagged with the gate incarnation that granted them. A gate that moved lost its window; the node
/// re-announces these (<see cref="GateRecentStarts"/>) so the fresh gate counts them, and the fresh gate ignores the
/// ones it granted itself. Pure: the caller passes <c>now</c>; not thread-safe (one actor owns it).
/// <para>A start is logged when the node receives the grant, i.e. no earlier than the gate granted it, and reported as
/// an age rounded down to whole seconds (at most ~61 entries per gate and domain): both make the fresh gate see each
/// start later than it was, so it counts it for longer, never shorter.</para>
/// </summary>
public sealed class NodeStartLog
{
    private readonly Dictionary<string, Queue<Entry>> _byDomain = new(StringComparer.Ordinal);

    /// <summary><paramref name="count"/> starts of <paramref name="domain"/> granted by gate <paramref name="gate"/>.</summary>
    public void Record(string domain, string gate, int count, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(gate);
        if (count <= 0)
        {
            return;
        }

        if (!_byDomain.TryGetValue(domain, out var entries))
        {
            _byDomain[domain] = entries = new Queue<Entry>();
        }

        entries.Enqueue(new Entry(now, gate, count));
    }

    /// <summary>The domains with a start in the window (forgetting the others).</summary>
    public IReadOnlyList<string> Domains(DateTimeOffset now)
    {
        foreach (var domain in _byDomain.Keys.ToList())
        {
            Forget(domain, now);
        }

        return [.. _byDomain.Keys];
    }

    /// <summary>The starts of <paramref name="domain"/> in the window, grouped by gate and whole seconds of age.</summary>
    public IReadOnlyList<RecentStart> Report(string domain, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(domain);
        Forget(domain, now);
        if (!_byDomain.TryGetValue(domain, out var entries))
        {
            return [];
        }

        return
        [
            .. entries
                .GroupBy(e => (e.Gate, AgeSeconds: (int)Math.Floor(Math.Max(0, (now - e.At).TotalSeconds))))
                .Select(g => new RecentStart(g.Key.Gate, g.Key.AgeSeconds, g.Sum(e => e.Count))),
        ];
    }

    private void Forget(string domain, DateTimeOffset now)
    {
        if (!_byDomain.TryGetValue(domain, out var entries))
        {
            return;
        }

        while (entries.Count > 0 && entries.Peek().At <= now - GateLeases.RateWindow)
        {
            entries.Dequeue();
        }

        if (entries.Count == 0)
        {
            _byDomain.Remove(domain);
        }
    }

    private sealed record Entry(DateTimeOffset At, string Gate, int Count);
}
