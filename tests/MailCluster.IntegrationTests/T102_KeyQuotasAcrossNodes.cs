using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T102: a key's quotas hold across the cluster. Two nodes on PostgreSQL; submissions with one key alternate between
/// them, each on a new connection: a daily quota of 5 lets exactly 5 transactions through in total, a rate of 3 per
/// minute exactly 3 (the run takes well under a minute); the rest are answered 451 4.7.1 at MAIL FROM, with when to
/// try again. The counter is one sharded entity per key, wherever it lives.
/// </summary>
[ParallelScenario]
public sealed class T102_KeyQuotasAcrossNodes
{
    private static readonly string[] Senders = [Scenario.SenderDomain];

    [Fact]
    public async Task Submissions_spread_over_two_nodes_are_cut_at_the_keys_quota_in_total()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 1);
        var nodes = cluster.AddNodes(2);
        await cluster.StartAllAsync();
        using var admin = QueueApiClient.For(nodes[0].Config!);
        var ports = nodes.Select(n => n.Config!.SubmissionsPort).ToArray();

        var (daily, dailySecret) = await AuthSubmission.CreateKeyAsync(admin, new { name = "daily", senders = Senders, daily_quota = 5 });
        var (rated, ratedSecret) = await AuthSubmission.CreateKeyAsync(admin, new { name = "rated", senders = Senders, rate_per_minute = 3 });

        // The second node learns the keys within seconds; both must know them before the count starts.
        await AuthSubmission.WaitForAuthAsync(ports[1], daily, dailySecret, "235 ");
        await AuthSubmission.WaitForAuthAsync(ports[1], rated, ratedSecret, "235 ");

        var dailyReplies = await SubmitAlternatingAsync(ports, daily, dailySecret, 10);
        Assert.Equal(5, dailyReplies.Count(r => r.StartsWith("250 ", StringComparison.Ordinal)));
        Assert.All(dailyReplies.Where(r => !r.StartsWith("250 ", StringComparison.Ordinal)), r => Assert.StartsWith("451 4.7.1 ", r, StringComparison.Ordinal));
        Assert.Contains(dailyReplies, r => r.Contains("daily quota", StringComparison.Ordinal));
        Assert.Equal(5, dailyReplies.Take(5).Count(r => r.StartsWith("250 ", StringComparison.Ordinal)));

        var ratedReplies = await SubmitAlternatingAsync(ports, rated, ratedSecret, 6);
        Assert.Equal(["250 ", "250 ", "250 ", "451 ", "451 ", "451 "], ratedReplies.Select(r => r[..4]));
        Assert.Matches(@"^451 4\.7\.1 .*try again in \d+ s", ratedReplies[3]);
    }

    /// <summary>One transaction per new connection, alternating nodes; the MAIL FROM replies (the quota is taken there).</summary>
    private static async Task<List<string>> SubmitAlternatingAsync(int[] ports, string id, string secret, int count)
    {
        var replies = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var (auth, client) = await AuthSubmission.LoginAsync(ports[i % ports.Length], id, secret);
            await using (client)
            {
                Assert.StartsWith("235 ", auth, StringComparison.Ordinal);
                replies.Add(await AuthSubmission.MailFromAsync(client, $"app{i}@senders.test"));
            }
        }

        return replies;
    }
}
