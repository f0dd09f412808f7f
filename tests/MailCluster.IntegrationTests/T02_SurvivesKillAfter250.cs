using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T02 (DESIGN invariant 2): the node is killed with SIGKILL right after it answered 250, while the sink
/// still refuses with 4xx. After a restart on the same data directory the message is delivered: nothing that
/// got a 250 is lost.
/// </summary>
[ParallelScenario]
public class T02_SurvivesKillAfter250
{
    [Fact]
    public async Task Message_answered_250_is_delivered_after_kill_and_restart()
    {
        await using var scenario = await Scenario.StartAsync();
        var accepting = false;
        scenario.Sink.AddRule((stage, _) => stage == Testing.SmtpStage.DataEnd && !Volatile.Read(ref accepting) ? "451 4.3.0 not yet" : null);
        var config = scenario.NewNodeConfig();
        var node = await scenario.StartNodeAsync(config, "node-a");
        var message = Scenario.NewMessage($"bob@{Scenario.RelayDomain}", "T02");

        var reply = await Scenario.SendAsync(config.MxPort, message);
        node.Kill();
        var sent = Scenario.WireBytes(message);

        Assert.StartsWith("2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        Assert.Empty(scenario.Sink.Messages);
        Volatile.Write(ref accepting, true);
        await scenario.StartNodeAsync(config, "node-a-restarted");
        var received = await scenario.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));
        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(sent, received.Data);
    }
}
