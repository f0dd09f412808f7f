using Akka.Actor;

namespace MailCluster.Queue.Gates;

/// <summary>
/// The cluster-wide connection cap and rate of destination domains, as <see cref="Delivery.GatedConnector"/> uses
/// them behind the node's own <see cref="Delivery.DestinationGates"/> (which orders the node's waiters, so this is
/// asked only for the slot a connection is about to use).
/// <para>Contract: <see cref="LeaseAsync"/> waits for a slot of the domain's gate and the returned lease must be
/// disposed once the connection is closed; a cancelled wait takes nothing. <see cref="StartAsync"/> waits for one
/// message start of the domain's rate; starts are fetched a few at a time (<see cref="BatchFor"/>) so that most
/// messages do not cost a round trip to the gate; unused ones lapse after <see cref="AllowanceLifetime"/>.</para>
/// </summary>
public sealed class ClusterGates(Func<IActorRef> client, Func<IActorRef> region, TimeProvider clock)
{
    /// <summary>How long fetched starts stay usable: a start counts at the gate from when it was granted.</summary>
    public static readonly TimeSpan AllowanceLifetime = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Allowance> _allowances = new(StringComparer.Ordinal);

    /// <summary>Starts asked for at once under <paramref name="ratePerMinute"/>: one per second's worth, 1 to 5.</summary>
    public static int BatchFor(int ratePerMinute) => Math.Clamp(ratePerMinute / 60, 1, 5);

    public async Task<IDisposable> LeaseAsync(string domain, int cap, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(domain);
        cancellationToken.ThrowIfCancellationRequested();
        var leaseId = Guid.NewGuid().ToString("N");
        var granted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lease = new Lease(client, domain, leaseId);
        client().Tell(new GateClientActor.Acquire(domain, leaseId, cap, granted));
        try
        {
            // The client decides between a grant and a withdrawal (one actor, no race): a cancelled wait tells it.
            using (cancellationToken.Register(lease.Dispose))
            {
                await granted.Task.ConfigureAwait(false);
            }

            // Granted, but cancelled before the registration ended: the lease may already be given back.
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch (OperationCanceledException)
        {
            lease.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            throw;
        }

        return lease;
    }

    public async Task StartAsync(string domain, int? ratePerMinute, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (ratePerMinute is not { } rate)
        {
            return;
        }

        while (true)
        {
            lock (_lock)
            {
                if (_allowances.TryGetValue(domain, out var allowance) && allowance.Left > 0 && allowance.Until > clock.GetUtcNow())
                {
                    if (allowance.Left == 1)
                    {
                        _allowances.Remove(domain);
                    }
                    else
                    {
                        _allowances[domain] = allowance with { Left = allowance.Left - 1 };
                    }

                    return;
                }
            }

            GateStarts answer;
            try
            {
                answer = await region().Ask<GateStarts>(new GateTakeStarts(domain, BatchFor(rate), rate), AskTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                continue; // the gate is moving: ask again
            }

            if (answer.Count > 0)
            {
                if (answer.Gate is { } gate)
                {
                    client().Tell(new GateClientActor.Started(domain, gate, answer.Count)); // re-announced if the gate moves
                }

                if (answer.Count > 1)
                {
                    lock (_lock)
                    {
                        _allowances[domain] = new Allowance(answer.Count - 1, clock.GetUtcNow() + AllowanceLifetime);
                    }
                }

                return;
            }

            var wait = (answer.RetryAt ?? clock.GetUtcNow()) - clock.GetUtcNow();
            await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(100), clock, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed record Allowance(int Left, DateTimeOffset Until);

    private sealed class Lease(Func<IActorRef> client, string domain, string leaseId) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                client().Tell(new GateClientActor.Release(domain, leaseId));
            }
        }
    }
}
