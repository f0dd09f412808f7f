using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using MimeKit;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T116 (#17): an MTA-STS policy in mode testing with an MX certificate for the wrong name. The message is delivered
/// as without a policy (RFC 8461 §5), and the failure is counted: the TLS-RPT aggregate report (RFC 8460; 5-second
/// periods here) reaches both rua of <c>_smtp._tls.sts.test</c> — by mail through the node's own queue (the RFC 8460
/// §5.3 MIME shape, the gzip JSON checked) and by HTTPS POST of application/tlsrpt+gzip to the policy server.
/// </summary>
[ParallelScenario]
public class T116_MtaStsTestingAndTlsRpt
{
    [Fact]
    public async Task Testing_mode_delivers_and_the_failure_is_reported_by_mail_and_https()
    {
        await using var world = await StsScenario.StartAsync(StsScenario.EnforcePolicy("testing"), "wrong.name.test");
        var config = world.NewNodeConfig(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MailCluster__TlsRpt__Submitter"] = "mc.test",
            ["MailCluster__TlsRpt__OrganizationName"] = "MailCluster T116",
        });
        var node = await world.Inner.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"bea@{StsScenario.Domain}", "T116 testing"));
        var messages = await world.Inner.Sink.WaitForMessagesAsync(2, TimeSpan.FromSeconds(90));
        Assert.Contains(messages, m => m.Recipients.SequenceEqual([$"bea@{StsScenario.Domain}"]));
        var reportMail = Assert.Single(messages, m => m.Recipients.SequenceEqual([$"tlsrpt@{StsScenario.ReportDomain}"]));

        var mime = MimeMessage.Load(new MemoryStream(reportMail.Data));
        Assert.Equal(StsScenario.Domain, mime.Headers["TLS-Report-Domain"]);
        Assert.Equal("mc.test", mime.Headers["TLS-Report-Submitter"]);
        var report = Assert.IsType<MultipartReport>(mime.Body);
        Assert.Equal("multipart/report", report.ContentType.MimeType);
        Assert.Equal("tlsrpt", report.ContentType.Parameters["report-type"]);
        var attachment = Assert.Single(report.OfType<MimePart>(), p => p.ContentType.MimeType == "application/tlsrpt+gzip");
        Assert.StartsWith($"mc.test!{StsScenario.Domain}!", attachment.FileName, StringComparison.Ordinal);
        using var gzip = new MemoryStream();
        await attachment.Content!.DecodeToAsync(gzip, TestContext.Current.CancellationToken);
        using (var json = StsScenario.Gunzip(gzip.ToArray()))
        {
            AssertHostMismatchCounted(json.RootElement);
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (world.Policy.Reports.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.True(world.Policy.Reports.TryPeek(out var posted), "no report was POSTed to the https rua\n" + node.Tail(50));
        Assert.Equal("application/tlsrpt+gzip", posted.ContentType);
        using (var json = StsScenario.Gunzip(posted.Body))
        {
            AssertHostMismatchCounted(json.RootElement);
        }
    }

    private static void AssertHostMismatchCounted(JsonElement root)
    {
        Assert.Equal("MailCluster T116", root.GetProperty("organization-name").GetString());
        var sts = Assert.Single(root.GetProperty("policies").EnumerateArray(),
            p => p.GetProperty("policy").GetProperty("policy-type").GetString() == "sts");
        Assert.Equal(StsScenario.Domain, sts.GetProperty("policy").GetProperty("policy-domain").GetString());
        Assert.Contains("mode: testing", sts.GetProperty("policy").GetProperty("policy-string").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(1, sts.GetProperty("summary").GetProperty("total-failure-session-count").GetInt64());
        var failure = Assert.Single(sts.GetProperty("failure-details").EnumerateArray());
        Assert.Equal("certificate-host-mismatch", failure.GetProperty("result-type").GetString());
        Assert.Equal(StsScenario.Mx, failure.GetProperty("receiving-mx-hostname").GetString());
        Assert.Equal(1, failure.GetProperty("failed-session-count").GetInt64());
    }
}
