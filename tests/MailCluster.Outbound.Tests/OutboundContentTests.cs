using System.Text;

namespace MailCluster.Outbound.Tests;

public sealed class OutboundContentTests
{
    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    [Theory]
    [InlineData("a\r\nb\r\n", "a\r\nb\r\n")]
    [InlineData("a\nb\n", "a\r\nb\r\n")]
    [InlineData("a\rb\r", "a\r\nb\r\n")]
    [InlineData("\n.\n", "\r\n.\r\n")]
    [InlineData("a\r\r\nb", "a\r\n\r\nb")]
    public void Bare_line_breaks_become_CRLF(string input, string expected) =>
        Assert.Equal(expected, Encoding.ASCII.GetString(OutboundContent.NormalizeLineEndings(Ascii(input)).Span));

    [Fact]
    public void A_clean_message_is_not_copied()
    {
        ReadOnlyMemory<byte> body = Ascii("Subject: x\r\n\r\nok\r\n");
        Assert.True(OutboundContent.NormalizeLineEndings(body).Equals(body));
    }

    [Fact]
    public void Content_decisions()
    {
        byte[] ascii = Ascii("Subject: x\r\n\r\nplain\r\n");
        byte[] body8 = Encoding.UTF8.GetBytes("Subject: x\r\n\r\nGrüße\r\n");
        byte[] header8 = Encoding.UTF8.GetBytes("Subject: Grüße\r\n\r\nplain\r\n");
        string[] rcpt = ["b@example.test"];

        Assert.Equal(ContentAction.Send, OutboundContent.Decide(ascii, "a@x.test", rcpt, false, false, true).Action);
        Assert.Equal(ContentAction.Send, OutboundContent.Decide(body8, "a@x.test", rcpt, false, true, true).Action);
        Assert.Equal(ContentAction.ConvertTo7Bit, OutboundContent.Decide(body8, "a@x.test", rcpt, false, false, true).Action);
        Assert.Equal((ContentAction.Fail, "5.6.3"), Pick(OutboundContent.Decide(body8, "a@x.test", rcpt, false, false, false)));
        Assert.Equal(ContentAction.SendUtf8, OutboundContent.Decide(header8, "a@x.test", rcpt, true, true, true).Action);
        Assert.Equal((ContentAction.Fail, "5.6.7"), Pick(OutboundContent.Decide(header8, "a@x.test", rcpt, false, true, true)));
        Assert.Equal((ContentAction.Fail, "5.6.7"), Pick(OutboundContent.Decide(ascii, "a@x.test", ["jörg@example.test"], false, true, true)));
    }

    private static (ContentAction, string) Pick(ContentDecision d) => (d.Action, d.EnhancedCode);
}
