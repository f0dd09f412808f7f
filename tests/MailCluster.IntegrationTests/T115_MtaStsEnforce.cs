using System.Collections.Concurrent;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T115 (#17): an MTA-STS policy in mode enforce (RFC 8461 §5). With a certificate from a trusted root naming the MX,
/// the message goes over TLS, and an MX host the policy does not list is never connected to. With a certificate
/// for another name, or an expired one, the message is deferred with 4.7.5 and nothing is sent in clear: no MAIL
/// ever reaches the sink, on the first attempt or the retry.
/// </summary>
[ParallelScenario]
public class T115_MtaStsEnforce
{
    [Fact]
    public async Task Valid_certificate_delivers_over_tls_and_skips_an_mx_outside_the_policy()
    {
        // mx0.evil.test is preferred (5) but not in the policy; it would reach the same sink.
        await using var world = await StsScenario.StartAsync(StsScenario.EnforcePolicy(), StsScenario.Mx, false,
            DnsmasqServer.Mx(StsScenario.Domain, "mx0.evil.test", 5), DnsmasqServer.HostRecord("mx0.evil.test", "127.0.0.1"));
        var config = world.NewNodeConfig();
        var node = await world.Inner.StartNodeAsync(config);

        var message = Scenario.NewMessage($"ann@{StsScenario.Domain}", "T115 enforce");
        await Scenario.SendAsync(config.MxPort, message);
        var received = await world.Inner.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));

        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(message), received.Data);
        await node.WaitForLogAsync("status=sent", TimeSpan.FromSeconds(10));
        Assert.Matches(@"status=sent, relay=mx1\.sts\.test\[127\.0\.0\.1\]:\d+, .*tls=TLSv1\.[23]", node.Log);
        Assert.Contains("MX host mx0.evil.test of sts.test is not in its MTA-STS policy", node.Log, StringComparison.Ordinal);
        Assert.Equal(1, world.Inner.Sink.ConnectionCount);
        Assert.Equal(1, world.Policy.PolicyRequests);
    }

    [Theory]
    [InlineData("wrong.name.test", false)]
    [InlineData(StsScenario.Mx, true)]
    public async Task Certificate_not_valid_for_the_mx_defers_with_4_7_5_and_sends_nothing(string certificateName, bool expired)
    {
        await using var world = await StsScenario.StartAsync(StsScenario.EnforcePolicy(), certificateName, expired);
        var stages = new ConcurrentQueue<SmtpStage>();
        world.Inner.Sink.Responder = (stage, _) =>
        {
            stages.Enqueue(stage);
            return null;
        };
        var config = world.NewNodeConfig();
        var node = await world.Inner.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"ann@{StsScenario.Domain}", "T115 bad certificate"));
        var listing = await QueueWait.UntilAttemptedAsync(config, StsScenario.Domain, 2); // The retry must not send in clear either.

        // Every assertion says what the node and the sink saw: a failure in a busy CI run is read from its message alone.
        string seen = $"stages [{string.Join(' ', stages)}], {world.Inner.Sink.ConnectionCount} connections, "
            + $"{world.Policy.PolicyRequests} policy requests, listing {listing}; node log:\n{OutboundLines(node.Log)}";
        string lastError = listing.GetProperty("messages")[0].GetProperty("recipients")[0].GetProperty("lastError").GetString() ?? "";
        Assert.True(lastError.Contains("4.7.5", StringComparison.Ordinal), $"last error without 4.7.5: {seen}");
        Assert.True(world.Inner.Sink.ConnectionCount >= 2, $"the node did not connect on each attempt: {seen}");
        Assert.True(stages.Contains(SmtpStage.Ehlo), $"no EHLO: {seen}");
        Assert.False(stages.Contains(SmtpStage.Mail), $"MAIL sent without a valid certificate: {seen}");
        Assert.Empty(world.Inner.Sink.DataAttempts);
        Assert.Empty(world.Inner.Sink.Messages);
    }

    /// <summary>The node's log lines about the delivery, the policy and TLS (the last 40).</summary>
    private static string OutboundLines(string log) => string.Join('\n', log.Split('\n')
        .Where(l => l.Contains("sts.test", StringComparison.Ordinal) || l.Contains("TLS", StringComparison.OrdinalIgnoreCase)
            || l.Contains("status=", StringComparison.Ordinal) || l.Contains("fail", StringComparison.OrdinalIgnoreCase))
        .TakeLast(40));
}
