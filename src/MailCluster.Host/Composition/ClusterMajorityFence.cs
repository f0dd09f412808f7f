using Akka.Actor;
using Akka.Cluster;
using MailCluster.Queue.Acceptance;

namespace MailCluster.Host.Composition;

/// <summary>
/// The acceptance fence of a cluster node (<see cref="IAcceptanceFence"/>): closed while this node cannot see a
/// majority of the cluster, which is exactly when the Split Brain Resolver (keep-majority) may be about to down it and
/// start its domain queues elsewhere. Between a partition and the resolver's decision (stable-after) a minority node
/// still hosts its shards and may still reach the database; without the fence it would answer 250 for mail whose queue
/// is about to be taken over. Reads <see cref="Cluster.State"/>, a snapshot Akka keeps current, on every message; the
/// answer is computed again only when that snapshot is a new one (Akka replaces it on each membership or reachability
/// change), not for every message.
/// </summary>
public sealed class ClusterMajorityFence(IServiceProvider services) : IAcceptanceFence
{
    private readonly Lazy<Cluster> _cluster = new(() => Cluster.Get(services.GetRequiredService<ActorSystem>()));

    /// <summary>The last snapshot read and the answer for it (replaced whole, so readers on any thread see a pair).</summary>
    private volatile Answered? _last;

    public string? WhyClosed()
    {
        var cluster = _cluster.Value;
        var state = cluster.State;
        if (_last is { } last && ReferenceEquals(last.State, state))
        {
            return last.Why;
        }

        var unreachable = state.Unreachable.Select(m => m.UniqueAddress).ToHashSet();
        var why = ClusterMajority.WhyClosed(
            [.. state.Members.Select(m => new ClusterMajority.Member(m.UniqueAddress == cluster.SelfUniqueAddress, m.Status, !unreachable.Contains(m.UniqueAddress)))]);
        _last = new Answered(state, why);
        return why;
    }

    private sealed record Answered(ClusterEvent.CurrentClusterState State, string? Why);
}

/// <summary>The fence's rule, pure: may a node that sees <paramref name="members"/> this way commit new mail?</summary>
public static class ClusterMajority
{
    public readonly record struct Member(bool IsSelf, MemberStatus Status, bool Reachable);

    /// <summary>
    /// Open when this node is a live member (not Down, Exiting or Removed) and the members it can reach, itself
    /// included, are more than half of the live members (those not Down, Exiting or Removed). An unreachable member
    /// counts against the majority until it is downed: a crashed node closes nothing in a cluster of three (two of
    /// three remain), while the single node cut off from two others closes at once. As with the resolver, run an odd
    /// number of nodes: of two, either one losing the other closes until the resolver has decided.
    /// </summary>
    public static string? WhyClosed(IReadOnlyCollection<Member> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var live = members.Where(m => m.Status is not (MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Removed)).ToList();
        if (!live.Any(m => m.IsSelf))
        {
            return "this node is not a live cluster member";
        }

        var reachable = live.Count(m => m.Reachable);
        return reachable * 2 > live.Count
            ? null
            : $"this node reaches {reachable} of {live.Count} cluster members, not a majority (possible network partition)";
    }
}
