using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T124 (#17, RFC 7672 §2.2: DANE does not apply). Securely absent TLSA records (the signed zone proves there are none)
/// and TLSA records in an unsigned zone (insecure: even ones that match nothing) leave the destination's own policy in
/// charge, opportunistic by default: the message is delivered.
/// </summary>
[ParallelScenario]
public class T124_DaneNotApplicable
{
    [Theory]
    [InlineData(DaneScenario.Domain, false)]
    [InlineData(DaneScenario.PlainDomain, true)]
    public async Task The_next_policy_decides(string domain, bool withNonMatchingRecords)
    {
        await using var world = await DaneScenario.StartAsync((_, _) => withNonMatchingRecords ? ["3 1 1 " + new string('c', 64)] : []);
        var config = world.NewNodeConfig();
        var node = await world.Inner.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"ann@{domain}", "T124 not applicable"));
        await world.Inner.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));
        await node.WaitForLogAsync("status=sent", TimeSpan.FromSeconds(10));
        Assert.Contains($"DANE for MX host mx.{domain} of {domain}: NotApplicable", node.Log, StringComparison.Ordinal);
    }
}
