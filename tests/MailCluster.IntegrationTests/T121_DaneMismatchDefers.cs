using System.Collections.Concurrent;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T121 (#17, RFC 7672 §2.2 and §3: secure, usable TLSA records that the server's certificate does not match). The
/// message is deferred with 4.7.5 and nothing is sent, in clear or otherwise: the handshake is refused, no MAIL
/// reaches the sink, on the first attempt or the retry. A DANE-TA anchor does not rescue a certificate for another name.
/// </summary>
[ParallelScenario]
public class T121_DaneMismatchDefers
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_certificate_the_records_do_not_authenticate_gets_nothing(bool wrongNameUnderTa)
    {
        await using var world = await DaneScenario.StartAsync(
            (_, root) => wrongNameUnderTa
                ? ["2 0 0 " + Convert.ToHexStringLower(root.RawData)]
                : ["3 1 1 " + new string('a', 64)],
            certificateName: wrongNameUnderTa ? "not-the-mx.example" : DaneScenario.Mx);
        var stages = new ConcurrentQueue<SmtpStage>();
        world.Inner.Sink.Responder = (stage, _) =>
        {
            stages.Enqueue(stage);
            return null;
        };
        var config = world.NewNodeConfig();
        await world.Inner.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"ann@{DaneScenario.Domain}", "T121 mismatch"));
        var listing = await QueueWait.UntilAttemptedAsync(config, DaneScenario.Domain, 2);

        string lastError = listing.GetProperty("messages")[0].GetProperty("recipients")[0].GetProperty("lastError").GetString() ?? "";
        Assert.Contains("4.7.5", lastError, StringComparison.Ordinal);
        Assert.Contains("DANE", lastError, StringComparison.Ordinal);
        Assert.True(world.Inner.Sink.ConnectionCount >= 2, "the node did connect on each attempt");
        Assert.DoesNotContain(SmtpStage.Mail, stages);
        Assert.Empty(world.Inner.Sink.Messages);
    }
}
