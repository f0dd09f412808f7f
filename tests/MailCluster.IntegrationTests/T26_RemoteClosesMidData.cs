using MailCluster.IntegrationTests.Infrastructure;
using MimeKit;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T26: the receiving MTA drops the connection in the middle of the message text (after 50 KB of a 300 KB
/// message). The attempt is transient (4.4.2), the message is retried and arrives exactly once, byte for byte.
/// </summary>
[ParallelScenario]
public class T26_RemoteClosesMidData
{
    [Fact]
    public async Task Retried_and_delivered_once()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.HangUpMidData(50_000);
        var config = scenario.NewNodeConfig();
        await scenario.StartNodeAsync(config);
        var message = Scenario.NewMessage($"big@{Scenario.RelayDomain}", "T26");
        message.Body = new TextPart("plain") { Text = string.Join("\r\n", Enumerable.Range(0, 4000).Select(i => $"line {i:D5} " + new string('m', 60))) + "\r\n" };

        await Scenario.SendAsync(config.MxPort, message);
        var received = await scenario.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));
        await QueueWait.UntilEmptyAsync(config, Scenario.RelayDomain);

        Assert.Single(scenario.Sink.Messages);
        Assert.True(scenario.Sink.DataAttempts.Count >= 2, "the first attempt was cut off");
        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(message), received.Data);
    }
}
