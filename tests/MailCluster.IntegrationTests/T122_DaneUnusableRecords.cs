using System.Collections.Concurrent;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T122 (#17, RFC 7672 §2.2: secure TLSA records, none usable — here PKIX-EE(1), which SMTP clients may not use).
/// TLS becomes mandatory without authentication: a sink with any certificate gets the message over TLS; a sink that
/// does not offer STARTTLS gets nothing in clear (deferred with 4.7.5).
/// </summary>
[ParallelScenario]
public class T122_DaneUnusableRecords
{
    [Fact]
    public async Task Encrypted_without_authentication()
    {
        await using var world = await DaneScenario.StartAsync((_, _) => ["1 1 1 " + new string('b', 64)], certificateName: "anything.example");
        var config = world.NewNodeConfig();
        var node = await world.Inner.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"ann@{DaneScenario.Domain}", "T122 encrypt only"));
        await world.Inner.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));
        await node.WaitForLogAsync("status=sent", TimeSpan.FromSeconds(10));
        Assert.Matches(@"status=sent, .*tls=TLSv1\.[23]", node.Log);
        Assert.Contains("DANE for MX host mx.dane.test of dane.test: EncryptOnly", node.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Never_in_clear()
    {
        await using var world = await DaneScenario.StartAsync((_, _) => ["1 1 1 " + new string('b', 64)], startTls: false);
        var stages = new ConcurrentQueue<SmtpStage>();
        world.Inner.Sink.Responder = (stage, _) =>
        {
            stages.Enqueue(stage);
            return null;
        };
        var config = world.NewNodeConfig();
        await world.Inner.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"ann@{DaneScenario.Domain}", "T122 no STARTTLS"));
        var listing = await QueueWait.UntilAttemptedAsync(config, DaneScenario.Domain, 1);

        string lastError = listing.GetProperty("messages")[0].GetProperty("recipients")[0].GetProperty("lastError").GetString() ?? "";
        Assert.Contains("4.7.5", lastError, StringComparison.Ordinal);
        Assert.DoesNotContain(SmtpStage.Mail, stages);
        Assert.Empty(world.Inner.Sink.Messages);
    }
}
