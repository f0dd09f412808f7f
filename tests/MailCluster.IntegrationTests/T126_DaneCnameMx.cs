using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T126 (#17, RFC 7672 §2.2.2): the MX host mx.dane.test is a CNAME of host.dane.test in the signed zone, so the chain
/// is secure. TLSA records are looked up at the expanded name first (a DANE-EE record there authenticates), then at
/// the MX host's own name (a DANE-TA record there authenticates a certificate that names only the expanded name:
/// both names are reference identifiers).
/// </summary>
[ParallelScenario]
public class T126_DaneCnameMx
{
    [Fact]
    public async Task Tlsa_at_the_expanded_name_comes_first()
    {
        await using var world = await DaneScenario.StartAsync(
            (certificate, _) => [DaneScenario.Ee(certificate)], certificateName: "not-the-mx.example", cnameTo: "host", tlsaAt: "host");
        var config = world.NewNodeConfig();
        var node = await world.Inner.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"ann@{DaneScenario.Domain}", "T126 expanded"));
        await world.Inner.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));
        await node.WaitForLogAsync("status=sent", TimeSpan.FromSeconds(10));
        Assert.Matches(@"status=sent, relay=mx\.dane\.test\[127\.0\.0\.1\]:\d+, .*tls=TLSv1\.[23]", node.Log);
        Assert.Contains("DANE for MX host mx.dane.test of dane.test: Authenticate (1 usable TLSA record(s); TLSA at host.dane.test)", node.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tlsa_at_the_original_name_and_a_certificate_naming_the_target()
    {
        await using var world = await DaneScenario.StartAsync(
            (_, root) => ["2 0 0 " + Convert.ToHexStringLower(root.RawData)], certificateName: "host.dane.test", cnameTo: "host", tlsaAt: "mx");
        var config = world.NewNodeConfig();
        var node = await world.Inner.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"ann@{DaneScenario.Domain}", "T126 original"));
        await world.Inner.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));
        await node.WaitForLogAsync("status=sent", TimeSpan.FromSeconds(10));
        Assert.Matches(@"status=sent, .*tls=TLSv1\.[23]", node.Log);
        Assert.Contains("DANE for MX host mx.dane.test of dane.test: Authenticate (1 usable TLSA record(s); TLSA at mx.dane.test)", node.Log, StringComparison.Ordinal);
    }
}
