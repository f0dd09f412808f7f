using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T14: the sink answers 451 to RCPT for one of two recipients the first time. The other is delivered in that
/// transaction; the deferred one alone is delivered by the retry, so each recipient arrives exactly once.
/// </summary>
[ParallelScenario]
public class T14_OneRecipientDeferredOtherDelivered
{
    [Fact]
    public async Task Deferred_recipient_retried_alone()
    {
        await using var scenario = await Scenario.StartAsync();
        int refused = 0;
        scenario.Sink.AddRule((stage, ctx) =>
            stage == Testing.SmtpStage.Rcpt && ctx.Recipient == $"later@{Scenario.RelayDomain}" && Interlocked.Increment(ref refused) == 1
                ? "451 4.2.1 mailbox busy, try later"
                : null);
        var config = scenario.NewNodeConfig();
        await scenario.StartNodeAsync(config);

        var message = Scenario.NewMessage($"now@{Scenario.RelayDomain}", "T14");
        message.To.Add(MimeKit.MailboxAddress.Parse($"later@{Scenario.RelayDomain}"));
        await Scenario.SendAsync(config.MxPort, message);
        var received = await scenario.Sink.WaitForMessagesAsync(2, TimeSpan.FromSeconds(60));

        Assert.Equal([$"now@{Scenario.RelayDomain}"], received[0].Recipients);
        Assert.Equal([$"later@{Scenario.RelayDomain}"], received[1].Recipients);
        Assert.Equal(received[0].Data, received[1].Data);
        await QueueWait.UntilEmptyAsync(config, Scenario.RelayDomain);
        Assert.Equal(2, scenario.Sink.Messages.Count);
    }
}
