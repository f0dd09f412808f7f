using System.Text;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using MimeKit;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T15: the sink refuses the message after DATA with 554 5.6.0. The sender (at senders.test, whose MX is the same
/// sink) receives an RFC 3464 DSN from MAILER-DAEMON with the null reverse-path, queued through the normal durable
/// path; it is parsed field by field with MimeKit, including the returned original headers.
/// </summary>
[ParallelScenario]
public class T15_BounceAfterDataRejection
{
    [Fact]
    public async Task Dsn_reaches_the_sender_domain()
    {
        await using var scenario = await Scenario.StartAsync();
        // Everything but the DSN itself is refused after DATA (the server's transaction is reset by then, so the body tells).
        scenario.Sink.AddRule((stage, ctx) =>
            stage == SmtpStage.DataEnd && !Encoding.ASCII.GetString(ctx.Data!).Contains("multipart/report", StringComparison.Ordinal)
                ? "554 5.6.0 content rejected by policy"
                : null);
        var config = scenario.NewNodeConfig();
        await scenario.StartNodeAsync(config);
        string sender = $"sam@{Scenario.SenderDomain}";
        var original = Scenario.NewMessage($"bob@{Scenario.RelayDomain}", "T15 original", sender);

        await Scenario.SendAsync(config.MxPort, original);
        var dsn = await scenario.Sink.WaitForDsnAsync(sender, TimeSpan.FromSeconds(60));

        var bounce = Assert.Single(scenario.Sink.Messages);
        Assert.Equal("", bounce.MailFrom);
        Assert.Equal("MAILER-DAEMON@mc.test", Assert.Single(dsn.Message.From.Mailboxes).Address);
        Assert.Equal(sender, Assert.Single(dsn.Message.To.Mailboxes).Address);
        Assert.Equal("auto-replied", dsn.Message.Headers["Auto-Submitted"]);

        Assert.Equal("dns; mc.test", dsn.PerMessage["Reporting-MTA"]);
        Assert.True(MimeKit.Utils.DateUtils.TryParse(dsn.PerMessage["Arrival-Date"], out var arrival), "Arrival-Date parses");
        Assert.InRange(arrival, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));

        var recipient = dsn.Recipient($"bob@{Scenario.RelayDomain}");
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.6.0", recipient["Status"]);
        Assert.Equal("dns; mx1.relay.test", recipient["Remote-MTA"]);
        Assert.Equal("smtp; 554 5.6.0 content rejected by policy", recipient["Diagnostic-Code"]);

        // RET absent: the original headers come back as text/rfc822-headers.
        var headers = Assert.IsType<TextRfc822Headers>(dsn.Original);
        Assert.NotNull(headers.Message);
        Assert.Equal("T15 original", headers.Message.Subject);
        Assert.Equal(original.MessageId, headers.Message.MessageId);
        Assert.Equal(sender, Assert.Single(headers.Message.From.Mailboxes).Address);
        using var content = new MemoryStream();
        headers.WriteTo(content);
        string text = Encoding.UTF8.GetString(content.ToArray());
        Assert.DoesNotContain("Hello from the test", text, StringComparison.Ordinal);
    }
}
