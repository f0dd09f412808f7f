using System.Text;
using MailCluster.Queue.Dsn;
using MailCluster.Queue.State;
using MimeKit;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>RFC 6533 international DSNs (#17): a bounce of a message that needed SMTPUTF8 is a
/// <c>global-delivery-status</c> report with <c>utf-8</c> address types; an ASCII one keeps the RFC 3464 form.</summary>
public class GlobalDsnTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 2, 0, 0, TimeSpan.Zero);

    private static DsnRequest Request(string recipient, string? ret, byte[] body) =>
        new("mc.example.net", "Q9", "ann@origin.test", T0, null, ret,
            [(new DsnReport(recipient, "failed", "5.1.1", 550, "no such user", "mx1.example.com[192.0.2.1]", T0), $"rfc822;{recipient}")], body, T0.AddHours(1));

    private static byte[] Body(string to) => Encoding.UTF8.GetBytes($"From: ann@origin.test\r\nTo: {to}\r\nSubject: Grüße\r\n\r\nHallo.\r\n");

    [Fact]
    public void A_utf8_recipient_gets_a_global_delivery_status_with_a_utf8_address_type()
    {
        byte[] dsn = DsnBuilder.Build(Request("jörg@bücher.example", "FULL", Body("jörg@bücher.example")));
        using var stream = new MemoryStream(dsn);
        var report = Assert.IsType<MultipartReport>(MimeMessage.Load(stream).Body);

        Assert.Equal("global-delivery-status", report.ReportType);
        var status = Assert.IsType<MessageDeliveryStatus>(report[1]);
        Assert.Equal("message/global-delivery-status", status.ContentType.MimeType);
        Assert.Contains("Final-Recipient: utf-8; jörg@bücher.example\r\n", Encoding.UTF8.GetString(dsn), StringComparison.Ordinal);
        Assert.Contains("Original-Recipient: rfc822;jörg@bücher.example\r\n", Encoding.UTF8.GetString(dsn), StringComparison.Ordinal);
        var original = Assert.IsType<MessagePart>(report[2]);
        Assert.Equal("message/global", original.ContentType.MimeType);
        Assert.Equal("Grüße", original.Message!.Subject);
    }

    [Fact]
    public void Utf8_headers_alone_make_it_global_and_return_message_global_headers()
    {
        byte[] dsn = DsnBuilder.Build(Request("bob@example.com", null, Body("bob@example.com")));
        using var stream = new MemoryStream(dsn);
        var report = Assert.IsType<MultipartReport>(MimeMessage.Load(stream).Body);

        Assert.Equal("global-delivery-status", report.ReportType);
        Assert.Contains("Final-Recipient: rfc822; bob@example.com\r\n", Encoding.UTF8.GetString(dsn), StringComparison.Ordinal);
        Assert.Equal("message/global-headers", report[2].ContentType.MimeType);
    }

    [Fact]
    public void An_ascii_message_keeps_the_rfc_3464_form()
    {
        byte[] body = Encoding.ASCII.GetBytes("From: ann@origin.test\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nHi.\r\n");
        byte[] dsn = DsnBuilder.Build(Request("bob@example.com", null, body));
        using var stream = new MemoryStream(dsn);
        var report = Assert.IsType<MultipartReport>(MimeMessage.Load(stream).Body);

        Assert.Equal("delivery-status", report.ReportType);
        Assert.Equal("message/delivery-status", report[1].ContentType.MimeType);
        Assert.Equal("text/rfc822-headers", report[2].ContentType.MimeType);
    }
}
