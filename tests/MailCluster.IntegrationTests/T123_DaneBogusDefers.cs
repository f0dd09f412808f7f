using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T123 (#17, RFC 7672 §2.1.1: a TLSA answer that fails validation — its signature no longer matches — makes the
/// validating resolver answer SERVFAIL; the client cannot tell an attack from an outage). The message waits: deferred
/// with 4.7.5, and the MX is never even connected to.
/// </summary>
[ParallelScenario]
public class T123_DaneBogusDefers
{
    [Fact]
    public async Task A_bogus_tlsa_answer_defers_without_connecting()
    {
        await using var world = await DaneScenario.StartAsync((certificate, _) => [DaneScenario.Ee(certificate)], bogus: true);
        var config = world.NewNodeConfig();
        await world.Inner.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"ann@{DaneScenario.Domain}", "T123 bogus"));
        var listing = await QueueWait.UntilAttemptedAsync(config, DaneScenario.Domain, 1);

        string lastError = listing.GetProperty("messages")[0].GetProperty("recipients")[0].GetProperty("lastError").GetString() ?? "";
        Assert.Contains("4.7.5", lastError, StringComparison.Ordinal);
        Assert.Contains("TLSA lookup failed", lastError, StringComparison.Ordinal);
        Assert.Equal(0, world.Inner.Sink.ConnectionCount);
    }
}
