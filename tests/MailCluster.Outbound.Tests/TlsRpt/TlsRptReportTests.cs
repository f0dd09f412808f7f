using System.IO.Compression;
using System.Text.Json;
using MailCluster.Outbound.TlsRpt;
using MimeKit;

namespace MailCluster.Outbound.Tests.TlsRpt;

/// <summary>RFC 8460 §3 (the TXT record) and §4 (the JSON report).</summary>
public class TlsRptReportTests
{
    private const string Policy = "version: STSv1\r\nmode: testing\r\nmx: *.mail.example\r\nmax_age: 86400\r\n";

    [Fact]
    public void Aggregates_counts_by_policy_and_failure()
    {
        var start = new DateTimeOffset(2026, 12, 5, 0, 0, 0, TimeSpan.Zero);
        var report = TlsRptReport.Build("example.com", start, start.AddDays(1), "r1", "Org", "postmaster@org.test",
        [
            new TlsRptCount("sts", Policy, "success", "mx1.mail.example", "192.0.2.1", 5),
            new TlsRptCount("sts", Policy, "certificate-expired", "mx2.mail.example", "192.0.2.2", 2),
            new TlsRptCount("sts", Policy, "certificate-expired", "mx2.mail.example", "192.0.2.2", 1),
            new TlsRptCount("no-policy-found", "", "success", "mx.other", "192.0.2.3", 7),
        ]);

        using var json = JsonDocument.Parse(TlsRptReport.Gzip(report) is var gz ? Gunzip(gz) : "");
        var root = json.RootElement;
        Assert.Equal("Org", root.GetProperty("organization-name").GetString());
        Assert.Equal("2026-12-05T00:00:00Z", root.GetProperty("date-range").GetProperty("start-datetime").GetString());
        Assert.Equal("2026-12-05T23:59:59Z", root.GetProperty("date-range").GetProperty("end-datetime").GetString());
        var policies = root.GetProperty("policies").EnumerateArray().ToList();
        Assert.Equal(2, policies.Count);
        var none = policies.Single(p => p.GetProperty("policy").GetProperty("policy-type").GetString() == "no-policy-found");
        Assert.Equal(7, none.GetProperty("summary").GetProperty("total-successful-session-count").GetInt64());
        var sts = policies.Single(p => p.GetProperty("policy").GetProperty("policy-type").GetString() == "sts");
        Assert.Equal(["version: STSv1", "mode: testing", "mx: *.mail.example", "max_age: 86400"],
            sts.GetProperty("policy").GetProperty("policy-string").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["*.mail.example"], sts.GetProperty("policy").GetProperty("mx-host").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(5, sts.GetProperty("summary").GetProperty("total-successful-session-count").GetInt64());
        Assert.Equal(3, sts.GetProperty("summary").GetProperty("total-failure-session-count").GetInt64());
        var detail = Assert.Single(sts.GetProperty("failure-details").EnumerateArray());
        Assert.Equal("certificate-expired", detail.GetProperty("result-type").GetString());
        Assert.Equal("mx2.mail.example", detail.GetProperty("receiving-mx-hostname").GetString());
        Assert.Equal(3, detail.GetProperty("failed-session-count").GetInt64());
    }

    [Fact]
    public void Names_the_file_as_rfc_8460_section_5_3()
    {
        var start = DateTimeOffset.FromUnixTimeSeconds(1470013207);
        Assert.Equal("mail.sender.example!company-y.example!1470013207!1470186007!151006.json.gz",
            TlsRptReport.FileName("mail.sender.example", "company-y.example", start, DateTimeOffset.FromUnixTimeSeconds(1470186007), "151006"));
    }

    [Theory]
    [InlineData(new[] { "v=TLSRPTv1; rua=mailto:tlsrpt@example.com" }, new[] { "mailto:tlsrpt@example.com" })]
    [InlineData(new[] { "v=TLSRPTv1;rua=mailto:a@example.com,https://reports.example.com/v1" }, new[] { "mailto:a@example.com", "https://reports.example.com/v1" })]
    [InlineData(new[] { "v=TLSRPTv1; rua=http://insecure.example.com/, ftp://x.example" }, new string[0])]
    [InlineData(new[] { "v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:b@example.com" }, new string[0])]
    [InlineData(new[] { "v=spf1 -all" }, new string[0])]
    public void Reads_rua(string[] records, string[] expected) =>
        Assert.Equal(expected, TlsRptRecord.FindRua(records).Select(u => u.OriginalString));

    [Theory]
    [InlineData("2026-12-06T00:30:00Z", 1, "2026-12-05")]
    [InlineData("2026-12-06T01:00:00Z", 1, "2026-12-06")]
    [InlineData("2026-12-06T23:00:00Z", 0, "2026-12-06")]
    public void Daily_reports_are_due_after_the_send_hour(string now, int hour, string dueBeforeDay)
    {
        var options = new TlsRptOptions { SendHourUtc = hour };
        long due = TlsRptReporter.DueBefore(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture), options);
        Assert.Equal(DateTimeOffset.Parse(dueBeforeDay + "T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds(), due);
    }

    private static string Gunzip(byte[] data)
    {
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var reader = new StreamReader(input);
        return reader.ReadToEnd();
    }

    [Fact]
    public void The_mail_has_the_rfc_8460_shape()
    {
        using var http = new HttpClient();
        var delivery = new TlsRptDelivery(() => null, http, new TlsRptOptions(), "mta.sender.test");
        var start = DateTimeOffset.FromUnixTimeSeconds(86400);
        var message = delivery.BuildMessage("reports@example.com", new TlsRptDocument("example.com", "r1", start, start.AddDays(1), [1, 2, 3]));

        Assert.Equal("example.com", message.Headers["TLS-Report-Domain"]);
        Assert.Equal("mta.sender.test", message.Headers["TLS-Report-Submitter"]);
        Assert.Equal("Report Domain: example.com Submitter: mta.sender.test Report-ID: <r1>", message.Subject);
        var report = Assert.IsType<Multipart>(message.Body);
        Assert.Equal("multipart/report", report.ContentType.MimeType);
        Assert.Equal("tlsrpt", report.ContentType.Parameters["report-type"]);
        var attachment = Assert.IsType<MimePart>(report[1]);
        Assert.Equal("application/tlsrpt+gzip", attachment.ContentType.MimeType);
        Assert.Equal("mta.sender.test!example.com!86400!172800!r1.json.gz", attachment.FileName);
    }
}
