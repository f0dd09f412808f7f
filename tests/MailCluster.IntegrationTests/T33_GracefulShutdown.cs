using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T33: on SIGTERM the node stops accepting mail: new sessions and sessions waiting for a command get 421 4.3.2,
/// a DATA transfer in progress finishes (250, and the message is delivered after restart), then the node exits
/// cleanly and its port is closed.
/// </summary>
[ParallelScenario]
public class T33_GracefulShutdown
{
    [Fact]
    public async Task Sigterm_drains_sessions()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.ReplyAt(Testing.SmtpStage.DataEnd, "451 4.3.0 hold it");
        var config = scenario.NewNodeConfig(new Dictionary<string, string> { ["MailCluster__Smtp__DrainTimeoutSeconds"] = "20" });
        var node = await scenario.StartNodeAsync(config);

        await using var idle = await RawSmtpClient.ConnectAsync(config.MxPort);
        await idle.ReadReplyAsync();
        await idle.CommandAsync("EHLO idle.example");

        await using var busy = await RawSmtpClient.ConnectAsync(config.MxPort);
        await busy.ReadReplyAsync();
        await busy.CommandAsync("EHLO busy.example");
        await busy.CommandAsync("MAIL FROM:<s@example.org>");
        await busy.CommandAsync("RCPT TO:<drain@relay.test>");
        Assert.StartsWith("354 ", await busy.CommandAsync("DATA"), StringComparison.Ordinal);
        await busy.WriteAsync("Subject: in flight\r\n\r\nfirst half\r\n");

        var stopping = node.StopAsync(TimeSpan.FromSeconds(60));
        Assert.StartsWith("421 4.3.2 ", await idle.ReadReplyAsync(), StringComparison.Ordinal);

        // While draining, the listener still answers: new sessions are told to go away.
        await using (var late = await RawSmtpClient.ConnectAsync(config.MxPort))
        {
            Assert.StartsWith("421 4.3.2 ", await late.ReadReplyAsync(), StringComparison.Ordinal);
        }

        await busy.WriteAsync("second half\r\n.\r\n");
        Assert.StartsWith("250 2.0.0 ", await busy.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("421 4.3.2 ", await busy.CommandAsync("MAIL FROM:<s@example.org>"), StringComparison.Ordinal);

        Assert.Equal(0, await stopping);
        await Assert.ThrowsAnyAsync<Exception>(() => RawSmtpClient.ConnectAsync(config.MxPort));

        scenario.Sink.Responder = (stage, _) => stage == Testing.SmtpStage.DataEnd ? "250 2.0.0 ok" : null;
        await scenario.StartNodeAsync(config, "restarted");
        await scenario.Sink.WaitForRecipientAsync("drain@relay.test", TimeSpan.FromSeconds(60));
    }
}
