using Akka.Cluster;
using MailCluster.Host.Composition;
using Xunit;
using M = MailCluster.Host.Composition.ClusterMajority.Member;

namespace MailCluster.Host.Tests;

/// <summary>The acceptance fence's rule (ClusterMajority): a node commits new mail only while it reaches a majority
/// of the live members; a crashed peer of three does not close it, a node cut off from two others does.</summary>
public class ClusterMajorityTests
{
    [Fact]
    public void A_single_node_cluster_is_open() =>
        Assert.Null(ClusterMajority.WhyClosed([new M(true, MemberStatus.Up, true)]));

    [Fact]
    public void Two_of_three_reachable_is_open() =>
        Assert.Null(ClusterMajority.WhyClosed([new M(true, MemberStatus.Up, true), new M(false, MemberStatus.Up, true), new M(false, MemberStatus.Up, false)]));

    [Fact]
    public void The_node_cut_off_from_two_others_is_closed()
    {
        var why = ClusterMajority.WhyClosed([new M(true, MemberStatus.Up, true), new M(false, MemberStatus.Up, false), new M(false, MemberStatus.Up, false)]);
        Assert.Equal("this node reaches 1 of 3 cluster members, not a majority (possible network partition)", why);
    }

    [Fact]
    public void A_downed_member_no_longer_counts() =>
        Assert.Null(ClusterMajority.WhyClosed([new M(true, MemberStatus.Up, true), new M(false, MemberStatus.Up, true), new M(false, MemberStatus.Down, false)]));

    [Fact]
    public void Half_is_not_a_majority() =>
        Assert.NotNull(ClusterMajority.WhyClosed([new M(true, MemberStatus.Up, true), new M(false, MemberStatus.Up, false)]));

    [Theory]
    [InlineData(MemberStatus.Down)]
    [InlineData(MemberStatus.Exiting)]
    [InlineData(MemberStatus.Removed)]
    public void A_node_that_is_itself_going_away_is_closed(MemberStatus status) =>
        Assert.Equal("this node is not a live cluster member",
            ClusterMajority.WhyClosed([new M(true, status, true), new M(false, MemberStatus.Up, true), new M(false, MemberStatus.Up, true)]));

    [Fact]
    public void A_node_that_has_not_joined_is_closed() =>
        Assert.NotNull(ClusterMajority.WhyClosed([]));
}
