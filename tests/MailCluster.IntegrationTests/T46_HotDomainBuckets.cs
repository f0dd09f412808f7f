using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T46 (DESIGN invariant 3): a hot domain configured with <c>MailCluster__Queue__Buckets__0__Domain</c> and
/// <c>__Count=4</c> is served by four entities (<c>d0.test#0..3</c>) on a two-node cluster; each message's
/// recipients in that domain stay in one bucket (one Enqueued event); every recipient is delivered exactly once.
/// </summary>
[ParallelScenario]
public class T46_HotDomainBuckets
{
    [Fact]
    public async Task Hot_domain_is_split_over_four_buckets()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 1);
        var release = false;
        cluster.Scenario.Sink.AddRule((stage, _) => stage == SmtpStage.DataEnd && !Volatile.Read(ref release) ? "451 4.3.0 not yet" : null);
        var nodes = cluster.AddNodes(2, new Dictionary<string, string>
        {
            ["MailCluster__Queue__Buckets__0__Domain"] = "D0.test",
            ["MailCluster__Queue__Buckets__0__Count"] = "4",
        });
        await cluster.StartAllAsync();

        var messages = Enumerable.Range(0, 40)
            .Select(i => new LoadMessage($"t46-{i}@load.test", "sender@example.org", [$"a{i}@d0.test", $"b{i}@d0.test"]))
            .ToList();
        var ports = nodes.Select(n => n.Config!.MxPort).ToList();
        var load = await SmtpLoad.RunAsync(() => ports, messages, workers: 4, TimeSpan.FromSeconds(60));
        Assert.Equal(messages.Count, load.Accepted.Count);
        await ClusterHarness.WaitForClusterAsync(nodes[0], v => v.GetProperty("totalEntities").GetInt32() == 4, TimeSpan.FromSeconds(20), "four bucket entities");

        Volatile.Write(ref release, true);
        var copies = await cluster.WaitForDeliveriesAsync([.. load.Accepted.Keys], TimeSpan.FromSeconds(60));
        Assert.All(messages, m => Assert.True(copies.ContainsKey(m.MessageId), $"{m.MessageId} not delivered"));

        // Retries are jittered per recipient, so a message's two recipients may arrive in two transactions;
        // each recipient arrives exactly once.
        var delivered = await WaitForRecipientsAsync(cluster, messages.Count * 2);
        Assert.All(messages.SelectMany(m => m.Recipients), r => Assert.Equal(1, delivered.GetValueOrDefault(r)));
    }

    private static async Task<Dictionary<string, int>> WaitForRecipientsAsync(ClusterHarness cluster, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var delivered = cluster.Scenario.Sink.Messages.SelectMany(m => m.Recipients)
                .GroupBy(r => r, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            if (delivered.Count >= count || DateTime.UtcNow > deadline)
            {
                await Task.Delay(1000);
                return cluster.Scenario.Sink.Messages.SelectMany(m => m.Recipients)
                    .GroupBy(r => r, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            }

            await Task.Delay(200);
        }
    }
}
