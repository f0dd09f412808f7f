using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T16: the remote closes the connection in the DATA phase, after the data but before its reply (the message is
/// not accepted). The client treats the broken connection as transient, retries, and the message is delivered
/// exactly once.
/// </summary>
[ParallelScenario]
public class T16_HangUpBeforeDataReplyDeliveredOnce
{
    [Fact]
    public async Task Retried_and_delivered_once()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.HangUpAt(SmtpStage.DataEnd, times: 1);
        var config = scenario.NewNodeConfig();
        await scenario.StartNodeAsync(config);

        var message = Scenario.NewMessage($"dave@{Scenario.RelayDomain}", "T16");
        await Scenario.SendAsync(config.MxPort, message);
        var received = await scenario.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));

        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(message), received.Data);
        Assert.Equal(2, scenario.Sink.DataAttempts.Count);
        Assert.True(scenario.Sink.ConnectionCount >= 2, "the retry used a new connection");
        await QueueWait.UntilEmptyAsync(config, Scenario.RelayDomain);
        Assert.Single(scenario.Sink.Messages);
    }
}
