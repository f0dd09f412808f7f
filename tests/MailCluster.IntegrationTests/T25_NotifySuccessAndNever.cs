using System.Text;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T25 (RFC 3461 end to end, parameters given at the edge): NOTIFY=SUCCESS to a next hop that does not offer DSN
/// yields a "relayed" DSN carrying ORCPT and ENVID; NOTIFY=NEVER suppresses the failure bounce.
/// </summary>
[ParallelScenario]
public class T25_NotifySuccessAndNever
{
    private static async Task SendRawAsync(int port, string sender, string rcptLine, string subject)
    {
        await using var client = await RawSmtpClient.ConnectAsync(port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.example");
        Assert.StartsWith("250 ", await client.CommandAsync($"MAIL FROM:<{sender}> RET=HDRS ENVID=T25+2Benv"), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await client.CommandAsync(rcptLine), StringComparison.Ordinal);
        await client.CommandAsync("DATA");
        Assert.StartsWith("250 2.0.0 ", await client.CommandAsync($"Subject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@t25>\r\n\r\nbody\r\n."), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Notify_success_reports_relayed_with_orcpt_and_envid()
    {
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig();
        await scenario.StartNodeAsync(config);
        var sender = $"sue@{Scenario.SenderDomain}";

        await SendRawAsync(config.MxPort, sender, $"RCPT TO:<ok@{Scenario.RelayDomain}> NOTIFY=SUCCESS ORCPT=rfc822;Original+40relay.test", "T25 success");
        var dsn = await scenario.Sink.WaitForDsnAsync(sender, TimeSpan.FromSeconds(60));

        Assert.Equal("T25+env", dsn.PerMessage["Original-Envelope-Id"]);
        var recipient = dsn.Recipient($"ok@{Scenario.RelayDomain}");
        Assert.Equal("relayed", recipient["Action"]);
        Assert.StartsWith("2.", recipient["Status"], StringComparison.Ordinal);
        Assert.Equal("rfc822;Original@relay.test", recipient["Original-Recipient"]?.Replace(" ", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Notify_never_suppresses_the_bounce()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.AddRule((stage, ctx) => stage == SmtpStage.Rcpt && ctx.Recipient!.StartsWith("gone", StringComparison.Ordinal) ? "550 5.1.1 no such user" : null);
        var config = scenario.NewNodeConfig();
        await scenario.StartNodeAsync(config);

        await SendRawAsync(config.MxPort, $"quiet@{Scenario.SenderDomain}", $"RCPT TO:<gone@{Scenario.RelayDomain}> NOTIFY=NEVER", "T25 never");
        await SendRawAsync(config.MxPort, $"loud@{Scenario.SenderDomain}", $"RCPT TO:<gone2@{Scenario.RelayDomain}>", "T25 control");

        // The control message's bounce arrives. Once both messages have left the relay queue (every recipient final,
        // any DSN queued) and the sender's queue is empty too, a bounce for the NOTIFY=NEVER one would have arrived.
        await scenario.Sink.WaitForDsnAsync($"loud@{Scenario.SenderDomain}", TimeSpan.FromSeconds(60));
        await QueueWait.UntilEmptyAsync(config, Scenario.RelayDomain, Scenario.SenderDomain);
        Assert.DoesNotContain(scenario.Sink.Messages, m => m.Recipients.Contains($"quiet@{Scenario.SenderDomain}")
            || Encoding.UTF8.GetString(m.Data).Contains("T25 never", StringComparison.Ordinal));
    }
}
