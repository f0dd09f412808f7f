using System.Collections.Concurrent;
using Akka.Actor;
using MailCluster.Queue.State;

namespace MailCluster.Queue;

/// <summary>
/// The domain queues running on this node, for the oldest-queued-message gauge. Each queue registers itself once per
/// incarnation (<see cref="Track"/>, one line in its constructor) with a function returning its current state; the
/// gauge reads them when Prometheus scrapes, so the queues do no work per event. A queue that stopped (passivated,
/// handed off, crashed) is forgotten at the next read: its actor reference is terminated.
/// <para>The state is read from the scraping thread. That is safe because a queue's state is an immutable object
/// replaced by a reference assignment: the read sees either the previous or the current state, never a torn one.</para>
/// </summary>
public sealed class QueueAges
{
    private readonly ConcurrentDictionary<IActorRef, Func<DomainQueueState>> _queues = new();

    /// <summary>Registers (or, after a restart, re-registers) the queue <paramref name="queue"/>.</summary>
    public void Track(IActorRef queue, Func<DomainQueueState> state) => _queues[queue] = state;

    /// <summary>Queues currently tracked (stopped ones are dropped by <see cref="OldestArrival"/>).</summary>
    public int Count => _queues.Count;

    /// <summary>The arrival time of the oldest message any running queue holds; null when they hold none.</summary>
    public DateTimeOffset? OldestArrival()
    {
        DateTimeOffset? oldest = null;
        foreach (var (queue, state) in _queues)
        {
            // Obsolete for actors (which should watch instead); this is no actor, and a local reference's flag is exact.
#pragma warning disable CS0618
            if (queue is IInternalActorRef { IsTerminated: true })
#pragma warning restore CS0618
            {
                _queues.TryRemove(queue, out _);
                continue;
            }

            foreach (var message in state().Messages.Values)
            {
                if (oldest is null || message.ArrivedAt < oldest)
                {
                    oldest = message.ArrivedAt;
                }
            }
        }

        return oldest;
    }
}
