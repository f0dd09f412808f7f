using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T24: a default smarthost that requires AUTH: everything goes to <c>smtp:127.0.0.1:PORT</c> with the configured
/// credentials (AUTH PLAIN), no MX lookup; the sink refuses MAIL from a client that did not authenticate.
/// </summary>
[ParallelScenario]
public class T24_SmarthostWithAuth
{
    [Fact]
    public async Task Default_smarthost_authenticates_and_delivers()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.Credentials = ("relay-user", "relay pass");
        var env = ScenarioMail.RelayDomains("anywhere.example");
        env["MailCluster__Outbound__Smarthost"] = $"smtp:127.0.0.1:{scenario.Sink.Port}";
        env["MailCluster__Outbound__SmarthostUsername"] = "relay-user";
        env["MailCluster__Outbound__SmarthostPassword"] = "relay pass";
        env["MailCluster__Outbound__Port"] = "1"; // MX delivery would go nowhere: only the smarthost reaches the sink.
        var config = scenario.NewNodeConfig(env);
        await scenario.StartNodeAsync(config);

        var message = Scenario.NewMessage("grace@anywhere.example", "T24");
        await Scenario.SendAsync(config.MxPort, message);
        var received = await scenario.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(["grace@anywhere.example"], received.Recipients);
        Assert.Contains("relay-user", scenario.Sink.Authentications);
        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(message), received.Data);
    }
}
