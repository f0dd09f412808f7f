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

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Receiver_gets_the_spooled_bytes(bool serverOffers8BitMime)
    {
        await using var h = await DeliveryHarness.StartAsync();
        if (!serverOffers8BitMime)
        {
            h.Smtp.Extensions = [.. h.Smtp.Extensions.Where(e => e is not ("8BITMIME" or "SMTPUTF8"))];
        }

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
}
