using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T85: the cluster-wide queue summary (GET /api/v1/queues) on two nodes sharing a real PostgreSQL. Every destination
/// answers 451 to the end of DATA, so the six domain queues stay deferred; whichever node is asked lists all six,
/// each with the name (address) of the node hosting it, sorted and paged by cursor; bad parameters are 400 problems
/// naming the field. Then one node is killed: the survivor answers within its bound and names the dead node in
/// <c>unanswered_nodes</c>.
/// </summary>
public sealed class T85_ClusterWideQueueSummary
{
    [Fact]
    public async Task Every_nodes_queues_are_listed_with_their_node_and_an_unreachable_node_is_named()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 6);
        cluster.Scenario.Sink.ReplyAt(SmtpStage.DataEnd, "451 4.3.0 greylisted, try later");
        var nodes = cluster.AddNodes(2, new Dictionary<string, string>
        {
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
        });
        await cluster.StartAllAsync();
        await ClusterHarness.WaitForClusterAsync(nodes[0], v => ClusterHarness.UpMembers(v) == 2, TimeSpan.FromSeconds(60), "two members up");
        foreach (var (domain, i) in cluster.Domains.Select((d, i) => (d, i)).Append((cluster.Domains[0], 6)))
        {
            Assert.StartsWith("2.0.0", await Scenario.SendAsync(nodes[i % 2].Config!.MxPort, Scenario.NewMessage($"user{i}@{domain}", "T85", $"alice@{Scenario.SenderDomain}")), StringComparison.Ordinal);
        }

        using var first = QueueApiClient.For(nodes[0].Config!);
        using var second = QueueApiClient.For(nodes[1].Config!);
        var summary = await ViewApi.PollAsync(first, "/api/v1/queues?sort=domain", s =>
            s.GetProperty("total").GetInt32() == 6 && s.GetProperty("totals").GetProperty("deferred").GetInt32() == 7);
        var rows = ViewApi.Rows(summary);
        Assert.Equal(cluster.Domains, rows.Keys);
        Assert.Empty(ViewApi.Unanswered(summary));
        Assert.Equal(2, rows["d0.test"].GetProperty("deferred").GetInt32());
        var addresses = nodes.Select(n => n.Address).ToHashSet(StringComparer.Ordinal);
        foreach (var row in rows.Values)
        {
            Assert.Contains(row.GetProperty("node").GetString()!, addresses);
            Assert.Equal(0, row.GetProperty("pending").GetInt32());
            Assert.Equal(0, row.GetProperty("held").GetInt32());
            Assert.Equal("451 4.3.0 greylisted, try later", row.GetProperty("lastReply").GetString());
            Assert.InRange(row.GetProperty("oldestAgeSeconds").GetDouble(), 0, 300);
            Assert.Equal(JsonValueKind.Null, row.GetProperty("suspension").ValueKind);
        }

        // Both nodes host queues (least-shard allocation spreads six new shards), and each is named as their host.
        Assert.Equal(addresses, rows.Values.Select(r => r.GetProperty("node").GetString()!).ToHashSet(StringComparer.Ordinal));

        // The other node gives the same answer: the view is cluster-wide from any node.
        var fromSecond = ViewApi.Rows(await QueueApiClient.GetJsonAsync(second, "/api/v1/queues?sort=domain", HttpStatusCode.OK));
        Assert.Equal(rows.ToDictionary(r => r.Key, r => r.Value.GetProperty("node").GetString()), fromSecond.ToDictionary(r => r.Key, r => r.Value.GetProperty("node").GetString()));

        // Sorted by deferred recipients, most first; paged by cursor, the pages concatenate to the whole list.
        var byDeferred = await QueueApiClient.GetJsonAsync(first, "/api/v1/queues?sort=deferred&limit=1", HttpStatusCode.OK);
        Assert.Equal("d0.test", Assert.Single(byDeferred.GetProperty("queues").EnumerateArray().ToList()).GetProperty("queue").GetString());
        var paged = new List<string>();
        string? cursor = null;
        do
        {
            var page = await QueueApiClient.GetJsonAsync(first, "/api/v1/queues?sort=domain&order=desc&limit=4" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)), HttpStatusCode.OK);
            paged.AddRange(page.GetProperty("queues").EnumerateArray().Select(q => q.GetProperty("queue").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        Assert.Equal(cluster.Domains.Reverse(), paged);
        Assert.Equal("d3.test", Assert.Single(ViewApi.Rows(await QueueApiClient.GetJsonAsync(first, "/api/v1/queues?domain=D3.TEST.", HttpStatusCode.OK)).Keys));

        foreach (var (query, field) in new[] { ("sort=size", "sort"), ("order=up", "order"), ("limit=0", "limit"), ("limit=201", "limit"), ("cursor=nonsense", "cursor"), ("domain=-x-", "domain") })
        {
            var problem = await QueueApiClient.GetJsonAsync(first, "/api/v1/queues?" + query, HttpStatusCode.BadRequest);
            Assert.Equal(field, problem.GetProperty("field").GetString());
        }

        // kill -9 the second node: the first answers within its bound, lists its own queues and names the dead one.
        nodes[1].Process!.Kill();
        var clock = Stopwatch.StartNew();
        var partial = await QueueApiClient.GetJsonAsync(first, "/api/v1/queues?sort=domain", HttpStatusCode.OK);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the summary took {clock.Elapsed} with a dead node");
        Assert.Contains(nodes[1].Address, ViewApi.Unanswered(partial));
        Assert.All(ViewApi.Rows(partial).Values, r => Assert.Equal(nodes[0].Address, r.GetProperty("node").GetString()));
    }
}
