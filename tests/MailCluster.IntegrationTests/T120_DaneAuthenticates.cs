using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T120 (#17, RFC 7672 decision table: secure, usable TLSA records → authenticate). DANE-EE matches the MX's key even
/// though its certificate names another host and no root vouches for it (the node has no CA file); DANE-TA with the
/// CA published whole ("2 0 0") authenticates a certificate that names the MX.
/// </summary>
[ParallelScenario]
public class T120_DaneAuthenticates
{
    [Fact]
    public async Task Dane_ee_authenticates_the_key_whatever_the_name()
    {
        await using var world = await DaneScenario.StartAsync((certificate, _) => [DaneScenario.Ee(certificate)], certificateName: "not-the-mx.example");
        var config = world.NewNodeConfig();
        var node = await world.Inner.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"ann@{DaneScenario.Domain}", "T120 DANE-EE"));
        await world.Inner.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));
        await node.WaitForLogAsync("status=sent", TimeSpan.FromSeconds(10));
        Assert.Matches(@"status=sent, relay=mx\.dane\.test\[127\.0\.0\.1\]:\d+, .*tls=TLSv1\.[23]", node.Log);
        Assert.Contains("DANE for MX host mx.dane.test of dane.test: Authenticate (1 usable TLSA record(s))", node.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dane_ta_authenticates_a_chain_to_the_published_anchor()
    {
        await using var world = await DaneScenario.StartAsync((_, root) => ["2 0 0 " + Convert.ToHexStringLower(root.RawData)]);
        var config = world.NewNodeConfig();
        var node = await world.Inner.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"ann@{DaneScenario.Domain}", "T120 DANE-TA"));
        await world.Inner.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));
        await node.WaitForLogAsync("status=sent", TimeSpan.FromSeconds(10));
        Assert.Matches(@"status=sent, .*tls=TLSv1\.[23]", node.Log);
        Assert.Contains("DANE for MX host mx.dane.test of dane.test: Authenticate", node.Log, StringComparison.Ordinal);
    }
}
