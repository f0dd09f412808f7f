using Akka.Actor;
using Akka.Cluster;

namespace MailCluster.Queue.Gates;

/// <summary>
/// One per delivery node (at <c>/user/<see cref="Name"/></c>): this node's side of the destination gates. It asks a
/// domain's gate for a slot on behalf of a connection about to open, completes the connection's wait when the grant
/// arrives, gives the slot back when the connection closes, and every renewal interval renews the leases it holds
/// (one <see cref="GateRenew"/> per domain) and re-sends the requests still waiting (a gate that moved lost them).
/// It answers a fresh gate's census with the starts it was granted of the domain in the last rate window, the leases
/// it holds there and its requests still waiting there; it re-announces those starts every renewal interval too (a
/// census message may be lost; the gate counts a node's first announcement only). A grant nobody waits for any more
/// is given back. When a member is removed, the gates it hosted are gone with the requests sent to them: the client
/// renews and re-sends 0.5 s and 2 s after the removal (once the shard regions have forgotten the dead home and
/// re-allocate), instead of waiting up to a whole renewal interval (issue 19, the failover tail).
/// </summary>
public sealed class GateClientActor : ReceiveActor, IWithTimers
{
    public const string Name = "destination-gate-client";

    private readonly Func<IActorRef> _region;
    private readonly string _node;
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _held = new(StringComparer.Ordinal);
    private readonly NodeStartLog _starts = new();

    /// <param name="region">The destination-gate shard region, resolved when first needed.</param>
    /// <param name="node">This node (<see cref="GateNode.Of"/>).</param>
    public GateClientActor(Func<IActorRef> region, string node, GateTimings timings, TimeProvider clock)
    {
        _region = region;
        _node = node;
        Receive<Started>(m => _starts.Record(m.Domain, m.Gate, m.Count, clock.GetUtcNow()));
        Receive<Acquire>(m =>
        {
            _pending[m.LeaseId] = new Pending(m.Domain, m.Cap, m.Granted);
            _region().Tell(new GateAcquire(m.Domain, m.LeaseId, _node, m.Cap));
        });
        Receive<Release>(m =>
        {
            if (_pending.Remove(m.LeaseId, out var pending))
            {
                pending.Granted.TrySetCanceled();
            }
            else if (_held.TryGetValue(m.Domain, out var leases) && leases.Remove(m.LeaseId) && leases.Count == 0)
            {
                _held.Remove(m.Domain);
            }

            _region().Tell(new GateRelease(m.Domain, m.LeaseId));
        });
        Receive<GateGranted>(m =>
        {
            if (_pending.Remove(m.LeaseId, out var pending) && pending.Granted.TrySetResult())
            {
                HeldIn(m.Domain).Add(m.LeaseId);
            }
            else if (!(_held.TryGetValue(m.Domain, out var leases) && leases.Contains(m.LeaseId)))
            {
                _region().Tell(new GateRelease(m.Domain, m.LeaseId)); // withdrawn while the grant was on its way
            }
        });
        Receive<GateCensus>(m =>
        {
            // The starts first: the renewal completes this node's part of the census, which lets the gate grant again.
            // A fresh gate lost the requests its predecessor queued: they go again now, not at the next renewal.
            if (_starts.Report(m.Domain, clock.GetUtcNow()) is { Count: > 0 } starts)
            {
                Sender.Tell(new GateRecentStarts(m.Domain, _node, starts));
            }

            Sender.Tell(new GateRenew(m.Domain, _node, Leases(m.Domain)));
            foreach (var (leaseId, pending) in _pending.Where(p => p.Value.Domain == m.Domain))
            {
                Sender.Tell(new GateAcquire(pending.Domain, leaseId, _node, pending.Cap));
            }
        });
        Receive<ClusterEvent.MemberRemoved>(_ =>
        {
            Timers.StartSingleTimer("after-removal-1", Renew.Instance, AfterRemoval[0]);
            Timers.StartSingleTimer("after-removal-2", Renew.Instance, AfterRemoval[1]);
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<Renew>(_ =>
        {
            foreach (var (domain, leases) in _held)
            {
                _region().Tell(new GateRenew(domain, _node, [.. leases]));
            }

            foreach (var (leaseId, pending) in _pending)
            {
                _region().Tell(new GateAcquire(pending.Domain, leaseId, _node, pending.Cap));
            }

            var now = clock.GetUtcNow();
            foreach (var domain in _starts.Domains(now))
            {
                _region().Tell(new GateRecentStarts(domain, _node, _starts.Report(domain, now)));
            }
        });
        RenewEvery = timings.RenewEvery;
    }

    /// <summary>When the client renews and re-sends after a member's removal: the regions learn of the removal from their
    /// own subscription, in no set order with this one, and a message sent before that still goes to the dead home.</summary>
    private static readonly TimeSpan[] AfterRemoval = [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)];

    public ITimerScheduler Timers { get; set; } = null!;

    private TimeSpan RenewEvery { get; }

    public static Props Props(Func<IActorRef> region, string node, GateTimings timings, TimeProvider clock) =>
        Akka.Actor.Props.Create(() => new GateClientActor(region, node, timings, clock));

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("renew", Renew.Instance, RenewEvery);
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.MemberRemoved));
    }

    /// <summary>Fails every wait still open: the node is stopping.</summary>
    protected override void PostStop()
    {
        Cluster.Get(Context.System).Unsubscribe(Self);
        foreach (var pending in _pending.Values)
        {
            pending.Granted.TrySetCanceled();
        }
    }

    private HashSet<string> HeldIn(string domain)
    {
        if (!_held.TryGetValue(domain, out var leases))
        {
            _held[domain] = leases = new HashSet<string>(StringComparer.Ordinal);
        }

        return leases;
    }

    private string[] Leases(string domain) => _held.TryGetValue(domain, out var leases) ? [.. leases] : [];

    /// <summary>A connection to <paramref name="Domain"/> waits for a slot; <paramref name="Granted"/> completes when it has one.</summary>
    public sealed record Acquire(string Domain, string LeaseId, int Cap, TaskCompletionSource Granted);

    /// <summary>The connection closed, or stopped waiting: the slot (or the request) is given back.</summary>
    public sealed record Release(string Domain, string LeaseId);

    /// <summary><paramref name="Count"/> starts of <paramref name="Domain"/> granted by gate <paramref name="Gate"/>: logged
    /// for re-announcement after the gate moves.</summary>
    public sealed record Started(string Domain, string Gate, int Count);

    private sealed record Pending(string Domain, int Cap, TaskCompletionSource Granted);

    private sealed class Renew
    {
        public static readonly Renew Instance = new();
    }
}
