namespace MailCluster.Queue.Gates;

/// <summary>
/// The message starts a destination's gate counts against its rate: every start of the last
/// <see cref="GateLeases.RateWindow"/>, at the time the gate granted it, oldest first. Starts granted by this gate are
/// added now; starts re-announced after the gate moved are added at their (earlier) time, so the list is kept sorted.
/// Pure: the caller passes <c>now</c>.
/// </summary>
public sealed class GateStartWindow
{
    private readonly List<DateTimeOffset> _starts = [];

    /// <summary>Starts within the window ending at <paramref name="now"/>.</summary>
    public int Count(DateTimeOffset now)
    {
        Forget(now);
        return _starts.Count;
    }

    /// <summary>Up to <paramref name="wanted"/> (at least 1) starts under <paramref name="ratePerMinute"/> (at least 1),
    /// recorded now; none, with the time the next one frees up, when the window holds the rate already.</summary>
    public StartGrant Take(int wanted, int ratePerMinute, DateTimeOffset now)
    {
        Forget(now);
        var rate = Math.Max(1, ratePerMinute);
        var count = Math.Min(Math.Max(1, wanted), rate - _starts.Count);
        if (count <= 0)
        {
            // The start that must leave the window before one more fits (re-announced starts may exceed the rate).
            return new StartGrant(0, _starts[_starts.Count - rate] + GateLeases.RateWindow);
        }

        Add(now, count);
        return new StartGrant(count, null);
    }

    /// <summary>Counts <paramref name="count"/> starts made at <paramref name="at"/> (in the past for re-announced
    /// ones; those already out of the window are ignored when it moves on).</summary>
    public void Add(DateTimeOffset at, int count)
    {
        var index = _starts.BinarySearch(at);
        index = index < 0 ? ~index : index;
        while (index < _starts.Count && _starts[index] == at)
        {
            index++;
        }

        _starts.InsertRange(index, Enumerable.Repeat(at, Math.Max(0, count)));
    }

    private void Forget(DateTimeOffset now)
    {
        var kept = _starts.FindIndex(t => t > now - GateLeases.RateWindow);
        _starts.RemoveRange(0, kept < 0 ? _starts.Count : kept);
    }
}
