using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T117 (#17): the fetched MTA-STS policy is kept in the node's policy table (RFC 8461 §3.3: cached until max_age).
/// A node restarted on the same data directory delivers under the cached policy without asking the policy host
/// again (the server counts its requests); once the <c>_mta-sts</c> TXT id changes, the next delivery fetches it.
/// </summary>
[ParallelScenario]
public class T117_MtaStsPolicyCachedAcrossRestart
{
    [Fact]
    public async Task Restart_reuses_the_policy_and_a_new_txt_id_refetches_it()
    {
        await using var world = await StsScenario.StartAsync(StsScenario.EnforcePolicy());
        var sink = world.Inner.Sink;

        var first = world.NewNodeConfig();
        var node = await world.Inner.StartNodeAsync(first, "first");
        await Scenario.SendAsync(first.MxPort, Scenario.NewMessage($"cat@{StsScenario.Domain}", "T117 one"));
        await sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(60), ToCat);
        await node.WaitForLogAsync("status=sent", TimeSpan.FromSeconds(10));
        Assert.Equal(1, world.Policy.PolicyRequests);
        Assert.Equal(0, await node.StopAsync(TimeSpan.FromSeconds(60)));

        var second = world.NewNodeConfig();
        node = await world.Inner.StartNodeAsync(second, "second");
        await Scenario.SendAsync(second.MxPort, Scenario.NewMessage($"cat@{StsScenario.Domain}", "T117 two"));
        await sink.WaitForMessagesAsync(2, TimeSpan.FromSeconds(60), ToCat);
        await node.WaitForLogAsync("status=sent", TimeSpan.FromSeconds(10));
        Assert.Matches(@"status=sent, relay=mx1\.sts\.test\[127\.0\.0\.1\]:\d+, .*tls=TLSv1\.[23]", node.Log);
        Assert.Equal(1, world.Policy.PolicyRequests);
        Assert.Equal(0, await node.StopAsync(TimeSpan.FromSeconds(60)));

        // The domain publishes a new policy id: a DNS server with the changed record.
        await using var changedDns = await DnsmasqServer.StartAsync(StsScenario.Records(world.CaDir, world.Policy.Port, "2"));
        var third = world.NewNodeConfig(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MailCluster__Dns__Servers__0"] = changedDns.Endpoint,
        });
        node = await world.Inner.StartNodeAsync(third, "third");
        await Scenario.SendAsync(third.MxPort, Scenario.NewMessage($"cat@{StsScenario.Domain}", "T117 three"));
        await sink.WaitForMessagesAsync(3, TimeSpan.FromSeconds(60), ToCat);
        Assert.Equal(2, world.Policy.PolicyRequests);
        await node.WaitForLogAsync("MTA-STS policy of sts.test fetched (id 2)", TimeSpan.FromSeconds(10));
    }

    /// <summary>The test's own mail; the TLS-RPT reports the node mails every 5 s go to the same sink.</summary>
    private static bool ToCat(ReceivedMessage message) => message.Recipients.SequenceEqual([$"cat@{StsScenario.Domain}"]);
}
