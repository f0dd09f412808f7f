using System.Diagnostics;
using System.Net;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T97: the suppression list is one table in the cluster's PostgreSQL. Two nodes: an entry added through the first
/// node's API refuses an authenticated submission on the second within 5 seconds; removed through the first, the
/// second accepts the address again within 5 seconds. No restart, no database round trip per RCPT (the nodes poll a
/// change counter).
/// </summary>
public sealed class T97_SuppressionAcrossNodes
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task An_entry_added_on_one_node_refuses_on_the_other_within_5_seconds()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 1);
        var nodes = cluster.AddNodes(2, SuppressionScenario.Environment());
        await cluster.StartAllAsync();
        using var first = QueueApiClient.For(nodes[0].Config!);
        var address = $"t97@{Scenario.RelayDomain}";
        Assert.Null(await SuppressionScenario.SubmitAsync(nodes[1].Config!.SubmissionsPort, address, "T97 before"));

        using (var added = await SuppressionScenario.AddAsync(first, new { address, reason = "t97" }))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        var refusedAfter = await UntilAsync(async () => await SuppressionScenario.SubmitAsync(nodes[1].Config!.SubmissionsPort, address, "T97 probe") is not null);
        Assert.True(refusedAfter < Bound, $"the second node refused the address only {refusedAfter} after it was added");

        using (var removed = await first.DeleteAsync(new Uri($"/api/v1/suppressions/{address}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        var acceptedAfter = await UntilAsync(async () => await SuppressionScenario.SubmitAsync(nodes[1].Config!.SubmissionsPort, address, "T97 probe") is null);
        Assert.True(acceptedAfter < Bound, $"the second node accepted the address only {acceptedAfter} after it was removed");

        // The second node's API reads the same table.
        using var second = QueueApiClient.For(nodes[1].Config!);
        Assert.Empty(await SuppressionScenario.ListAsync(second));
    }

    /// <summary>Tries every 100 ms until <paramref name="done"/> holds; returns how long that took (fails after 15 s).</summary>
    private static async Task<TimeSpan> UntilAsync(Func<Task<bool>> done)
    {
        var clock = Stopwatch.StartNew();
        while (!await done())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "not within 15 s");
            await Task.Delay(100);
        }

        return clock.Elapsed;
    }
}
