using System.Text;
using MailCluster.Queue.Dsn;
using MailCluster.Queue.State;
using MimeKit;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>RFC 3464 DSNs built by <see cref="DsnBuilder"/>, read back with MimeKit field by field.</summary>
public class DsnBuilderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static readonly byte[] Original = Encoding.UTF8.GetBytes(
        "From: ann@origin.test\r\nTo: bob@example.com\r\nSubject: hello\r\nMessage-ID: <m1@origin.test>\r\n\r\nThe body.\r\n");

    private static DsnRequest Request(string? ret, ReadOnlyMemory<byte>? body, params (DsnReport, string?)[] recipients) =>
        new("mc.example.net", "Q1", "ann@origin.test", T0, "env-7", ret, recipients, body, T0.AddHours(1));

    private static (MimeMessage Message, MultipartReport Report, IList<HeaderList> Groups) Read(byte[] dsn)
    {
        using var stream = new MemoryStream(dsn);
        var message = MimeMessage.Load(stream);
        var report = Assert.IsType<MultipartReport>(message.Body);
        var status = Assert.IsType<MessageDeliveryStatus>(report[1]);
        // MimeKit reads the blank line that ends the last group as one more, empty group.
        return (message, report, status.StatusGroups.Where(g => g.Count > 0).ToList());
    }

    [Fact]
    public void Failed_recipient_with_headers_returned()
    {
        var failed = new DsnReport("bob@example.com", "failed", "5.1.1", 550, "no such user", "mx1.example.com[192.0.2.1]", T0.AddMinutes(5));
        var (message, report, groups) = Read(DsnBuilder.Build(Request(null, Original, (failed, "rfc822;Bob@Example.com"))));

        Assert.Equal("MAILER-DAEMON@mc.example.net", Assert.Single(message.From.Mailboxes).Address);
        Assert.Equal("ann@origin.test", Assert.Single(message.To.Mailboxes).Address);
        Assert.Equal("Undelivered Mail Returned to Sender", message.Subject);
        Assert.Equal("delivery-status", report.ReportType);
        Assert.Contains("could not be delivered", Assert.IsType<TextPart>(report[0]).Text, StringComparison.Ordinal);

        Assert.Equal("env-7", groups[0]["Original-Envelope-Id"]);
        Assert.Equal("dns; mc.example.net", groups[0]["Reporting-MTA"]);
        Assert.True(MimeKit.Utils.DateUtils.TryParse(groups[0]["Arrival-Date"], out var arrival));
        Assert.Equal(T0, arrival);
        var r = groups[1];
        Assert.Equal("rfc822;Bob@Example.com", r["Original-Recipient"]);
        Assert.Equal("rfc822; bob@example.com", r["Final-Recipient"]);
        Assert.Equal("failed", r["Action"]);
        Assert.Equal("5.1.1", r["Status"]);
        Assert.Equal("dns; mx1.example.com", r["Remote-MTA"]);
        Assert.Equal("smtp; 550 5.1.1 no such user", r["Diagnostic-Code"]);

        var headers = Assert.IsType<TextRfc822Headers>(report[2]);
        Assert.Equal("hello", headers.Message!.Subject);
        Assert.Equal(3, report.Count);
    }

    [Fact]
    public void RET_FULL_returns_the_whole_message()
    {
        var failed = new DsnReport("bob@example.com", "failed", "5.0.0", 554, "rejected", null, T0);
        var (_, report, groups) = Read(DsnBuilder.Build(Request("FULL", Original, (failed, null))));
        var returned = Assert.IsType<MessagePart>(report[2]);
        Assert.Equal("The body.", Assert.IsType<TextPart>(returned.Message!.Body).Text.TrimEnd());
        Assert.Equal("m1@origin.test", returned.Message.MessageId);
        Assert.Null(groups[1]["Original-Recipient"]);
        Assert.Null(groups[1]["Remote-MTA"]);
    }

    [Fact]
    public void Without_a_body_and_without_a_reply_code()
    {
        var relayed = new DsnReport("bob@example.com", "relayed", "2.0.0", 250, "ok", "mx", T0);
        var delayed = new DsnReport("carol@example.com", "delayed", "4.4.1", 0, "connection refused", null, T0);
        var (message, report, groups) = Read(DsnBuilder.Build(Request(null, null, (relayed, null), (delayed, null))));
        Assert.Equal(2, report.Count);
        Assert.Equal("Delayed Mail (still being retried)", message.Subject);
        Assert.Equal(["relayed", "delayed"], groups.Skip(1).Select(g => g["Action"]));
        Assert.Null(groups[2]["Diagnostic-Code"]);
    }
}
