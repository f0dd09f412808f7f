using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace MailCluster.Queue.Gates;

/// <summary>
/// The gate entity of one destination domain (region <c>destination-gate</c>, entity id = the domain): a thin shell
/// over <see cref="GateLeases"/>. It tells holders their grants, frees the leases of nodes removed from the cluster,
/// and on start asks every delivery node which leases it holds and which starts it was granted in the last rate window
/// (the census that ends the quiet period early and restores the rate's window).
/// Volatile: nothing is persisted; idle passivation is safe because a live lease is renewed well within the idle
/// timeout, so a gate with leases is never idle.
/// </summary>
public sealed class DestinationGateEntity : ReceiveActor, IWithTimers
{
    private readonly string _domain;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, IActorRef> _holders = new(StringComparer.Ordinal);
    private readonly GateLeases _leases;

    public DestinationGateEntity(string domain, GateTimings timings, TimeProvider clock)
    {
        _domain = domain;
        _clock = clock;
        var cluster = Cluster.Get(Context.System);
        var census = cluster.State.Members.Where(m => m.HasRole(DeliveryQueueSettings.Role)).ToList();
        _leases = new GateLeases(clock.GetUtcNow(), timings, census.Select(m => GateNode.Of(m.UniqueAddress)), Guid.NewGuid().ToString("N"));
        foreach (var member in census)
        {
            Context.ActorSelection(new RootActorPath(member.Address) / "user" / GateClientActor.Name).Tell(new GateCensus(domain));
        }

        Receive<GateAcquire>(m => Tell(_leases.Acquire(m.LeaseId, Holder(m.Node), m.Cap, Now)));
        Receive<GateRenew>(m => Tell(_leases.Renew(Holder(m.Node), m.LeaseIds, Now)));
        Receive<GateRelease>(m => Tell(_leases.Release(m.LeaseId, Now)));
        Receive<GateTakeStarts>(m =>
        {
            var grant = _leases.TakeStarts(m.Wanted, m.RatePerMinute, Now);
            Sender.Tell(new GateStarts(_domain, grant.Count, grant.RetryAt, _leases.Incarnation));
        });
        Receive<GateRecentStarts>(m => _leases.RestoreStarts(m.Node, m.Starts, Now));
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            var node = GateNode.Of(m.Member.UniqueAddress);
            _holders.Remove(node);
            Tell(_leases.RemoveNode(node, Now));
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<Tick>(_ => Tell(_leases.Tick(Now)));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private DateTimeOffset Now => _clock.GetUtcNow();

    public static Props Props(string domain, GateTimings timings, TimeProvider clock) =>
        Akka.Actor.Props.Create(() => new DestinationGateEntity(domain, timings, clock));

    protected override void PreStart()
    {
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromSeconds(1));
    }

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    /// <summary>Remembers who answers for <paramref name="node"/> (the sender: that node's client actor).</summary>
    private string Holder(string node)
    {
        _holders[node] = Sender;
        return node;
    }

    private void Tell(IReadOnlyList<LeaseGrant> grants)
    {
        foreach (var grant in grants)
        {
            // A holder not known (yet) re-sends its request every renewal interval and is granted again then.
            if (_holders.TryGetValue(grant.Node, out var holder))
            {
                holder.Tell(new GateGranted(_domain, grant.LeaseId));
            }
        }
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}

/// <summary>A node as the gates name it: its unique address, so a node restarted on the same port is another node.</summary>
public static class GateNode
{
    public static string Of(UniqueAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return $"{address.Address}#{address.Uid}";
    }
}

/// <summary>Routes every <see cref="IGateCommand"/> to the gate of its domain.</summary>
public sealed class GateMessageExtractor(int shards) : HashCodeMessageExtractor(shards)
{
    public override string? EntityId(object message) => message is IGateCommand command ? command.Domain : null;
}
