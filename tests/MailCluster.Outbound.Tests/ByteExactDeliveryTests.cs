using System.Text;

namespace MailCluster.Outbound.Tests;

/// <summary>
/// DESIGN invariant 4: the receiver gets the spooled bytes, unchanged. MailKit by default hides Bcc/Resent-Bcc/
/// Content-Length, adds MIME-Version and re-encodes parts (MimeMessage.Prepare); the deliverer must do none of it.
/// </summary>
public sealed class ByteExactDeliveryTests
{
    private static readonly string LongLine = string.Concat(Enumerable.Repeat("0123456789", 150));

    /// <summary>No MIME-Version on purpose, an undeclared 8-bit part, odd header spacing, dots, a 1500-byte line.</summary>
    private static byte[] Tricky() => Encoding.UTF8.GetBytes(string.Join("\r\n",
        "Received: from client.test (client.test [127.0.0.9])",
        "\tby mailcluster.test with ESMTP id 42;",
        "\tMon, 1 Jan 2024 00:00:00 +0000",
        "From: \"Ann, A.\" <ann@origin.test>",
        "To: bob@example.test",
        "Bcc: secret@example.test",
        "Resent-Bcc: other@example.test",
        "Content-Length: 12345",
        "Subject: =?utf-8?q?caf=C3=A9?= and a",
        "  folded subject   ",
        "X-NoSpace:value",
        "X-Folded: one",
        "\ttwo",
        "Message-ID: <1@origin.test>",
        "Content-Type: multipart/mixed; boundary=\"b1\"",
        "",
        "preamble",
        "--b1",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Grüße aus Köln – 8-bit text without a Content-Transfer-Encoding",
        ".a line starting with a dot",
        "..two dots",
        ".",
        LongLine,
        "trailing spaces   ",
        "--b1",
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: base64",
        "",
        "AAECAwQ=",
        "--b1--",
        "epilogue",
        ""));

    [Fact]
    public async Task Receiver_gets_the_spooled_bytes()
    {
        await using var h = await DeliveryHarness.StartAsync();
        byte[] spooled = Tricky();
        var result = await h.DeliverAsync(spooled);

        Assert.Equal(Queue.Delivery.OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        var received = await h.Smtp.WaitForMessageAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Encoding.UTF8.GetString(spooled), Encoding.UTF8.GetString(received.Data));
        Assert.Equal(spooled, received.Data);
    }

    [Fact]
    public async Task Receiver_gets_the_spooled_bytes_over_STARTTLS()
    {
        await using var h = await DeliveryHarness.StartAsync(startTls: true);
        byte[] spooled = Tricky();
        var result = await h.DeliverAsync(spooled);
        Assert.NotNull(result.TlsProtocol);
        Assert.Equal(spooled, (await h.Smtp.WaitForMessageAsync(TimeSpan.FromSeconds(10))).Data);
    }

    /// <summary>RFC 6152 §3: an 8-bit body to a server without 8BITMIME is converted to 7-bit by MimeKit: the
    /// 8-bit part becomes quoted-printable, the other parts and the text itself are unchanged.</summary>
    [Fact]
    public async Task Eight_bit_body_is_converted_for_a_server_without_8BITMIME()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.Extensions = [.. h.Smtp.Extensions.Where(e => e is not ("8BITMIME" or "SMTPUTF8"))];
        byte[] spooled = Tricky();

        var result = await h.DeliverAsync(spooled);

        Assert.Equal(Queue.Delivery.OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        var received = await h.Smtp.WaitForMessageAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(received.Data, b => b >= 0x80);
        using var stream = new MemoryStream(received.Data);
        var message = MimeKit.MimeMessage.Load(stream);
        var multipart = Assert.IsType<MimeKit.Multipart>(message.Body);
        var text = Assert.IsType<MimeKit.TextPart>(multipart[0]);
        Assert.Equal(MimeKit.ContentEncoding.QuotedPrintable, text.ContentTransferEncoding);
        Assert.StartsWith("Grüße aus Köln – 8-bit text", text.Text, StringComparison.Ordinal);
        Assert.Equal("1@origin.test", message.MessageId);
    }

    /// <summary>RFC 6531 §3.5: a UTF-8 header needs SMTPUTF8; without it the message fails permanently with 5.6.7 and nothing is sent.</summary>
    [Fact]
    public async Task Utf8_header_to_a_server_without_SMTPUTF8_fails_5_6_7()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.Extensions = [.. h.Smtp.Extensions.Where(e => e is not "SMTPUTF8")];
        byte[] spooled = Encoding.UTF8.GetBytes("From: ann@origin.test\r\nSubject: Grüße\r\n\r\nbody\r\n");

        var result = await h.DeliverAsync(spooled);

        var outcome = Assert.Single(result.Outcomes);
        Assert.Equal((Queue.Delivery.OutcomeKind.Permanent, "5.6.7"), (outcome.Kind, outcome.EnhancedCode));
        Assert.Empty(h.Smtp.DataAttempts);
    }

    /// <summary>The outbound half of SMTP smuggling: a bare LF and a bare CR in the spool reach the peer as CRLF.</summary>
    [Fact]
    public async Task Bare_CR_and_LF_are_never_sent()
    {
        await using var h = await DeliveryHarness.StartAsync();
        byte[] spooled = Encoding.ASCII.GetBytes("From: ann@origin.test\r\nSubject: x\r\n\r\nline1\nline2\rline3\r\n.\nfake\r\n");

        var result = await h.DeliverAsync(spooled);

        Assert.Equal(Queue.Delivery.OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        var received = await h.Smtp.WaitForMessageAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("From: ann@origin.test\r\nSubject: x\r\n\r\nline1\r\nline2\r\nline3\r\n.\r\nfake\r\n", Encoding.ASCII.GetString(received.Data));
    }
}
