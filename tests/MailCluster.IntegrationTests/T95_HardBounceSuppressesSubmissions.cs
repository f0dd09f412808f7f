using System.Globalization;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T95: the sink answers RCPT for gone@relay.test with 550 5.1.1 (user unknown). An authenticated submission to it is
/// accepted, bounces, and the bounce is classified InvalidRecipient (mail log, metrics), which puts the address on the
/// suppression list. The next authenticated submission to it is refused at RCPT with 550 5.7.1 and the reason; the
/// same address arriving on the MX listener from another server is still accepted and relayed.
/// </summary>
[ParallelScenario]
public sealed class T95_HardBounceSuppressesSubmissions
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_hard_bounce_suppresses_the_address_for_submissions_but_not_for_the_mx_listener()
    {
        await using var scenario = await Scenario.StartAsync();
        var gone = $"gone@{Scenario.RelayDomain}";
        scenario.Sink.RefuseRecipient(gone, $"550 5.1.1 <{gone}>: Recipient address rejected: User unknown in virtual mailbox table");
        var config = scenario.NewNodeConfig(SuppressionScenario.Environment());
        var node = await scenario.StartNodeAsync(config, "node-t95");
        using var api = QueueApiClient.For(config);

        Assert.Null(await SuppressionScenario.SubmitAsync(config.SubmissionsPort, gone, "T95 first"));
        var entry = await SuppressionScenario.WaitForEntryAsync(api, gone, Wait);
        Assert.Equal(("global", "hard bounce (InvalidRecipient)"), (entry.GetProperty("scope").GetString(), entry.GetProperty("reason").GetString()));
        Assert.Contains("550 5.1.1", entry.GetProperty("source").GetString(), StringComparison.Ordinal);
        var days = (entry.GetProperty("expiresAt").GetDateTimeOffset() - entry.GetProperty("createdAt").GetDateTimeOffset()).TotalDays;
        Assert.Equal(30, days, precision: 3);
        await node.WaitForLogAsync($"to=<{gone}>, status=bounced", Wait);
        Assert.Contains("class=InvalidRecipient", node.Log.Split('\n').First(l => l.Contains($"to=<{gone}>, status=bounced", StringComparison.Ordinal)), StringComparison.Ordinal);

        var refused = await SuppressionScenario.SubmitAsync(config.SubmissionsPort, gone.ToUpperInvariant(), "T95 second");
        Assert.NotNull(refused);
        Assert.Equal(550, (int)refused.StatusCode);
        Assert.Contains("5.7.1", refused.Message, StringComparison.Ordinal);
        Assert.Contains("suppressed: hard bounce (InvalidRecipient)", refused.Message, StringComparison.Ordinal);

        // Another server delivering to the MX listener is never refused for the list.
        var relayed = Scenario.NewMessage(gone, "T95 from another server");
        Assert.StartsWith("2.0.0 ", await Scenario.SendAsync(config.MxPort, relayed), StringComparison.Ordinal);
        for (var deadline = DateTime.UtcNow + Wait; RcptTo(scenario.Sink, gone) < 2; await Task.Delay(200))
        {
            Assert.True(DateTime.UtcNow < deadline, "the relayed message was not delivered to the sink");
        }

        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{config.OpsPort.ToString(CultureInfo.InvariantCulture)}") };
        var text = await metrics.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("mailcluster_delivery_outcomes_classified_total{status=\"bounced\",classification=\"InvalidRecipient\"}", text, StringComparison.Ordinal);
    }

    private static int RcptTo(ScriptedSmtpServer sink, string address) =>
        sink.CommandLines.Count(l => l.StartsWith($"RCPT TO:<{address}>", StringComparison.OrdinalIgnoreCase));
}
