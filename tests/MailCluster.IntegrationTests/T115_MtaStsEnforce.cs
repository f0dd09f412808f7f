using System.Collections.Concurrent;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T115 (#17): an MTA-STS policy in mode enforce (RFC 8461 §5). With a certificate from a trusted root naming the MX,
/// the message goes over TLS, and an MX host the policy does not list is never connected to. With a certificate
/// for another name, or an expired one, the message is deferred with 4.7.5 and nothing is sent in clear: no MAIL
/// for it ever reaches the sink, on the first attempt or the retry (the sink is also reports.test's MX, where the node's
/// TLS-RPT report of the failures may arrive during the test).
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
        // The sink is also the MX of reports.test: once a TLS-RPT period (5 s here) closes, the node mails its report of
        // these very failures there, over opportunistic TLS (that domain has no policy). Stages are kept per sender, so
        // the report's transaction (from tlsrpt-noreply@...) is told apart from the test message's.
        var stages = new ConcurrentQueue<(SmtpStage Stage, string? From)>();
        world.Inner.Sink.Responder = (stage, context) =>
        {
            stages.Enqueue((stage, stage == SmtpStage.Mail ? context.Argument : context.MailFrom));
            return null;
        };
        var config = world.NewNodeConfig();
        var node = await world.Inner.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"ann@{StsScenario.Domain}", "T115 bad certificate"));
        var listing = await QueueWait.UntilAttemptedAsync(config, StsScenario.Domain, 2); // The retry must not send in clear either.

        // Every assertion says what the node and the sink saw: a failure in a busy CI run is read from its message alone.
        string seen = $"stages [{string.Join(' ', stages.Select(s => s.From is null ? $"{s.Stage}" : $"{s.Stage}({s.From})"))}], "
            + $"{world.Inner.Sink.ConnectionCount} connections, {world.Policy.PolicyRequests} policy requests, listing {listing}; "
            + $"node log:\n{OutboundLines(node.Log)}";
        string lastError = listing.GetProperty("messages")[0].GetProperty("recipients")[0].GetProperty("lastError").GetString() ?? "";
        Assert.True(lastError.Contains("4.7.5", StringComparison.Ordinal), $"last error without 4.7.5: {seen}");
        Assert.True(world.Inner.Sink.ConnectionCount >= 2, $"the node did not connect on each attempt: {seen}");
        Assert.True(stages.Any(s => s.Stage == SmtpStage.Ehlo), $"no EHLO: {seen}");
        Assert.False(stages.Any(s => s.Stage == SmtpStage.Mail && !IsReport(s.From)), $"MAIL sent without a valid certificate: {seen}");
        Assert.DoesNotContain(world.Inner.Sink.Messages, m => m.Recipients.Any(r => r.EndsWith("@" + StsScenario.Domain, StringComparison.OrdinalIgnoreCase)));
        Assert.All(world.Inner.Sink.Messages, m => Assert.StartsWith("tlsrpt-noreply@", m.MailFrom, StringComparison.Ordinal));
    }

    /// <summary>True for the envelope sender of the node's TLS-RPT reports (MAIL FROM argument or address).</summary>
    private static bool IsReport(string? from) => from?.Contains("tlsrpt-noreply@", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>The node's log lines about the delivery, the policy and TLS (the last 40).</summary>
    private static string OutboundLines(string log) => string.Join('\n', log.Split('\n')
        .Where(l => l.Contains("sts.test", StringComparison.Ordinal) || l.Contains("TLS", StringComparison.OrdinalIgnoreCase)
            || l.Contains("status=", StringComparison.Ordinal) || l.Contains("fail", StringComparison.OrdinalIgnoreCase))
        .TakeLast(40));
}
