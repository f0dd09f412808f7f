using MailCluster.Queue.Buckets;
using Xunit;

namespace MailCluster.Queue.Tests.Buckets;

/// <summary>The queue API covers the domain, its configured buckets and the buckets found running in the cluster, in
/// one fixed order (listing offsets run over that order).</summary>
public sealed class QueueEntitiesTests
{
    private static readonly DomainBuckets Four = new(new Dictionary<string, int>(StringComparer.Ordinal) { ["hot.test"] = 4 });

    [Fact]
    public void Unsplit_domain_is_one_entity() =>
        Assert.Equal(["cold.test"], QueueEntities.Merge(Four, "cold.test", []));

    [Fact]
    public void Configured_buckets_follow_the_domain() =>
        Assert.Equal(["hot.test", "hot.test#0", "hot.test#1", "hot.test#2", "hot.test#3"], QueueEntities.Merge(Four, "hot.test", [2, 0]));

    [Fact]
    public void Buckets_left_above_a_lowered_count_are_merged_in_number_order() =>
        Assert.Equal(
            ["hot.test", "hot.test#0", "hot.test#1", "hot.test#2", "hot.test#3", "hot.test#5", "hot.test#10"],
            QueueEntities.Merge(Four, "hot.test", [10, 5, 5, 1]));

    [Fact]
    public void Buckets_of_a_domain_no_longer_split_are_found_too() =>
        Assert.Equal(["cold.test", "cold.test#0", "cold.test#3"], QueueEntities.Merge(Four, "cold.test", [3, 0]));
}
