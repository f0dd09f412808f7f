using System.Text;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T23: with <c>MailCluster__Retry__DelayWarningSeconds=2</c>, a recipient still deferred (the sink answers 451 after
/// DATA to everything but DSNs) once the message is 2 s old gets one "delayed" DSN to its sender; retries go on and
/// no second warning follows.
/// </summary>
[ParallelScenario]
public class T23_DelayWarningDsn
{
    [Fact]
    public async Task One_delayed_dsn_while_retrying()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.AddRule((stage, ctx) =>
            stage == SmtpStage.DataEnd && !Encoding.ASCII.GetString(ctx.Data!).Contains("multipart/report", StringComparison.Ordinal)
                ? "451 4.3.0 try again later"
                : null);
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Retry__DelayWarningSeconds"] = "2",
            ["MailCluster__Retry__MaxAgeSeconds"] = "600",
            ["MailCluster__Retry__MaxSeconds"] = "2",
        });
        await scenario.StartNodeAsync(config);
        string sender = $"ivy@{Scenario.SenderDomain}";

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"jon@{Scenario.RelayDomain}", "T23", sender));
        var dsn = await scenario.Sink.WaitForDsnAsync(sender, TimeSpan.FromSeconds(60));

        var recipient = dsn.Recipient($"jon@{Scenario.RelayDomain}");
        Assert.Equal("delayed", recipient["Action"]);
        Assert.Equal("4.3.0", recipient["Status"]);
        Assert.Equal("Delayed Mail (still being retried)", dsn.Message.Subject);
        int attemptsAtWarning = scenario.Sink.DataAttempts.Count;

        // Retries go on: wait until the queue has recorded three more attempts than it had after the warning arrived
        // (one attempt may have been under way then), each a point where a second warning could be decided, and until
        // the sender's queue has delivered any DSN.
        var queuedAttempts = Recipient(await QueueWait.UntilAttemptedAsync(config, Scenario.RelayDomain, 1)).GetProperty("attempts").GetInt32();
        await QueueWait.UntilAttemptedAsync(config, Scenario.RelayDomain, queuedAttempts + 3);
        await QueueWait.UntilEmptyAsync(config, Scenario.SenderDomain);
        Assert.True(scenario.Sink.DataAttempts.Count > attemptsAtWarning + 1, "retries continue after the warning");
        Assert.Single(scenario.Sink.Messages); // the one warning
    }

    private static JsonElement Recipient(JsonElement listing) =>
        Assert.Single(Assert.Single(listing.GetProperty("messages").EnumerateArray().ToList()).GetProperty("recipients").EnumerateArray().ToList());
}
