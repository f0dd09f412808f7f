using System.Collections.Concurrent;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T17: TLS policy <c>required</c> for relay.test. A remote that does not offer STARTTLS never sees MAIL, RCPT or
/// DATA (nothing is sent in clear; the message is deferred). One that offers it gets the message over TLS, and the
/// TLS version is recorded with the attempt.
/// </summary>
[ParallelScenario]
public class T17_RequiredTlsNeverSendsInClear
{
    private static Dictionary<string, string> RequiredTls() => new(StringComparer.Ordinal)
    {
        ["MailCluster__Outbound__Domains__0__Name"] = Scenario.RelayDomain,
        ["MailCluster__Outbound__Domains__0__TlsPolicy"] = "required",
    };

    [Fact]
    public async Task Remote_without_starttls_gets_nothing()
    {
        await using var scenario = await Scenario.StartAsync();
        var stages = new ConcurrentQueue<SmtpStage>();
        scenario.Sink.Responder = (stage, _) =>
        {
            stages.Enqueue(stage);
            return null;
        };
        var config = scenario.NewNodeConfig(RequiredTls());
        var node = await scenario.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"erin@{Scenario.RelayDomain}", "T17 clear"));
        await node.WaitForLogAsync("TLS policy Required", TimeSpan.FromSeconds(30));
        await QueueWait.UntilAttemptedAsync(config, Scenario.RelayDomain, 2); // A retry finished, which must not send either.

        Assert.True(scenario.Sink.ConnectionCount >= 1, "the node did connect");
        Assert.Contains(SmtpStage.Ehlo, stages);
        Assert.DoesNotContain(SmtpStage.Mail, stages);
        Assert.DoesNotContain(SmtpStage.Rcpt, stages);
        Assert.Empty(scenario.Sink.DataAttempts);
        Assert.Empty(scenario.Sink.Messages);
    }

    [Fact]
    public async Task Remote_with_starttls_gets_the_message_over_tls()
    {
        await using var scenario = await Scenario.StartAsync([], new ScriptedSmtpServer(enableStartTls: true, hostName: "mx1.relay.test"));
        var config = scenario.NewNodeConfig(RequiredTls());
        var node = await scenario.StartNodeAsync(config);

        var message = Scenario.NewMessage($"erin@{Scenario.RelayDomain}", "T17 tls");
        await Scenario.SendAsync(config.MxPort, message);
        var received = await scenario.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));

        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(message), received.Data);
        await node.WaitForLogAsync("status=sent", TimeSpan.FromSeconds(10));
        Assert.Matches(@"status=sent, relay=mx1\.relay\.test\[127\.0\.0\.1\]:\d+, .*tls=TLSv1\.[23], class=none \(250 ", node.Log);
    }
}
