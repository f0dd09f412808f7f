using System.Net;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T92: three nodes on a real PostgreSQL. Mail accepted by two different nodes gives events that any node answers
/// (the node field names the acceptor); the node delivering webhooks is killed with SIGKILL and delivery continues
/// from a survivor: an event persisted after the kill reaches the receiver, signed. (Three nodes, not two: with two,
/// keep-majority downs the survivor when the oldest dies.)
/// </summary>
public sealed class T92_EventsAcrossNodesOnPostgres
{
    private const string Secret = "t92-secret-0123456789";
    private const string Started = "Webhook delivery runs on this node";

    [Fact]
    public async Task Events_of_every_node_are_read_anywhere_and_webhooks_move_to_a_survivor()
    {
        await using var receiver = new WebhookReceiver(Secret);
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 2);
        var nodes = cluster.AddNodes(3, new Dictionary<string, string>
        {
            ["MailCluster__Webhooks__0__Url"] = receiver.Url,
            ["MailCluster__Webhooks__0__Secret"] = Secret,
            ["MailCluster__Webhooks__0__Events__0"] = "Delivery",
            ["Logging__LogLevel__MailCluster.Events"] = "Information",
        });
        await cluster.StartAllAsync();
        await ClusterHarness.WaitForClusterAsync(nodes[0], v => ClusterHarness.UpMembers(v) == 3, TimeSpan.FromSeconds(60), "three members up");

        var first = await SendAsync(nodes[0], cluster.Domains[0], "T92 a");
        var second = await SendAsync(nodes[1], cluster.Domains[1], "T92 b");
        await receiver.WaitForAsync(events => Delivered(events, first) && Delivered(events, second), TimeSpan.FromSeconds(90));

        // Any node answers with the events of both; the Reception events name the node that accepted.
        using var third = QueueApiClient.For(nodes[2].Config!);
        var receptions = await QueueApiClient.GetJsonAsync(third, "/api/v1/events?type=Reception", HttpStatusCode.OK);
        var byQueue = receptions.GetProperty("events").EnumerateArray().ToDictionary(e => e.GetProperty("queue_id").GetString()!, e => e.GetProperty("node").GetString());
        Assert.Equal($"127.0.0.1:{nodes[0].ClusterPort}", byQueue[first]);
        Assert.Equal($"127.0.0.1:{nodes[1].ClusterPort}", byQueue[second]);
        using var firstApi = QueueApiClient.For(nodes[0].Config!);
        var ofSecond = await QueueApiClient.GetJsonAsync(firstApi, $"/api/v1/messages/{second}/events", HttpStatusCode.OK);
        Assert.Equal(["Reception", "Delivery"], ofSecond.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()));

        // Kill the node that delivers webhooks; a survivor takes over and delivers an event persisted after the kill.
        var deliverer = Assert.Single(nodes, n => n.Process!.Log.Contains(Started, StringComparison.Ordinal));
        deliverer.Process!.Kill();
        var survivor = nodes.First(n => n != deliverer);
        var late = await SendWithRetryAsync(survivor, cluster.Domains[0], "T92 late");
        await receiver.WaitForAsync(events => Delivered(events, late), TimeSpan.FromSeconds(120));
        Assert.Contains(nodes, n => n != deliverer && n.Process!.Log.Contains(Started, StringComparison.Ordinal));
        Assert.Equal(0, receiver.BadSignatures);
    }

    private static bool Delivered(IReadOnlyList<JsonElement> events, string queueId) =>
        events.Any(e => e.GetProperty("queue_id").GetString() == queueId && e.GetProperty("type").GetString() == "Delivery");

    private static async Task<string> SendAsync(ClusterNode node, string domain, string subject) =>
        (await Scenario.SendAsync(node.Config!.MxPort, Scenario.NewMessage($"user@{domain}", subject))).Split(' ')[^1];

    /// <summary>While the cluster re-homes the dead node's shards, acceptance may answer 451 for a few seconds.</summary>
    private static async Task<string> SendWithRetryAsync(ClusterNode node, string domain, string subject)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                return await SendAsync(node, domain, subject);
            }
            catch (MailKit.Net.Smtp.SmtpCommandException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(1000);
            }
        }
    }
}
