using System.Net;

namespace MailCluster.Ops.Access;

/// <summary>
/// Slows down guessing: an address that presented <see cref="Limit"/> bad tokens within <see cref="Window"/> gets
/// 429 (with Retry-After) for every request without a valid token until its window ends. A valid token always passes,
/// so an operator behind the same proxy as a guesser keeps working. Nothing is held while refusing (no delayed
/// answers tying up connections). Memory is bounded: at most <see cref="MaxAddresses"/> addresses are tracked;
/// when full, expired windows are dropped, then the oldest window.
/// </summary>
public sealed class BadTokenThrottle(TimeProvider clock)
{
    public const int Limit = 10;
    public const int MaxAddresses = 10_000;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Dictionary<IPAddress, (DateTimeOffset Start, int Failures)> failures = [];
    private readonly Lock gate = new();

    public int Tracked
    {
        get
        {
            lock (gate)
            {
                return failures.Count;
            }
        }
    }

    /// <summary>Counts one bad token from <paramref name="address"/>.</summary>
    public void Failed(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var now = clock.GetUtcNow();
        lock (gate)
        {
            if (failures.TryGetValue(address, out var entry) && now - entry.Start < Window)
            {
                failures[address] = (entry.Start, entry.Failures + 1);
                return;
            }

            if (!failures.ContainsKey(address) && failures.Count >= MaxAddresses)
            {
                Evict(now);
            }

            failures[address] = (now, 1);
        }
    }

    /// <summary>How long <paramref name="address"/> must wait, or null when it may try a token now.</summary>
    public TimeSpan? RetryAfter(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var now = clock.GetUtcNow();
        lock (gate)
        {
            if (!failures.TryGetValue(address, out var entry) || now - entry.Start >= Window)
            {
                return null;
            }

            return entry.Failures >= Limit ? entry.Start + Window - now : null;
        }
    }

    private void Evict(DateTimeOffset now)
    {
        foreach (var expired in failures.Where(f => now - f.Value.Start >= Window).Select(f => f.Key).ToList())
        {
            failures.Remove(expired);
        }

        if (failures.Count >= MaxAddresses)
        {
            failures.Remove(failures.MinBy(f => f.Value.Start).Key);
        }
    }
}
