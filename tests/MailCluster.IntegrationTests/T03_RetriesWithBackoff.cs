using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T03: the sink answers 451 to the end of DATA twice, then accepts. The message is delivered on the third
/// attempt, and the gaps between attempts follow the configured backoff (1 s, then 2 s, each ±10% jitter).
/// </summary>
public class T03_RetriesWithBackoff
{
    [Fact]
    public async Task Delivered_on_third_attempt_after_exponential_gaps()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.RefuseDataEnd(2, "451 4.3.0 try again later");
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Retry__InitialSeconds"] = "1",
            ["MailCluster__Retry__MaxSeconds"] = "60",
        });
        await scenario.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"carol@{Scenario.RelayDomain}", "T03"));
        await scenario.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));

        var attempts = scenario.Sink.DataAttempts;
        Assert.Equal(3, attempts.Count);
        var first = (attempts[1] - attempts[0]).TotalSeconds;
        var second = (attempts[2] - attempts[1]).TotalSeconds;

        // Lower bounds are the schedule itself (minus jitter); upper bounds allow for a loaded machine.
        Assert.InRange(first, 0.9, 1.9);
        Assert.InRange(second, 1.8, 3.5);
        Assert.True(second > first, $"second gap {second:0.00}s is not longer than the first {first:0.00}s");
    }
}
