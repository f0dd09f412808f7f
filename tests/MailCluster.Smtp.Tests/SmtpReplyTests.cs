using System.Buffers;
using System.Text;

namespace MailCluster.Smtp.Tests;

public class SmtpReplyTests
{
    private static string Wire(SmtpReply reply)
    {
        var writer = new ArrayBufferWriter<byte>();
        reply.WriteTo(writer);
        Assert.Equal(reply.ByteCount, writer.WrittenCount);
        return Encoding.UTF8.GetString(writer.WrittenSpan);
    }

    [Fact]
    public void Single_line_carries_the_enhanced_code() =>
        Assert.Equal("250 2.1.0 Sender OK\r\n", Wire(SmtpReplies.SenderOk));

    [Fact]
    public void Multi_line_repeats_code_and_enhanced_code_on_every_line() =>
        Assert.Equal("550-5.7.1 first\r\n550-5.7.1 second\r\n550 5.7.1 third\r\n", Wire(new SmtpReply(550, "5.7.1", "first\nsecond\nthird")));

    [Fact]
    public void Ehlo_reply_has_no_enhanced_code()
    {
        var reply = SmtpReplies.Ehlo("mx.example", "client.example", ["PIPELINING", "SIZE 1000", "8BITMIME"]);
        Assert.Equal("250-mx.example Hello client.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n", Wire(reply));
    }

    [Fact]
    public void Greeting_and_data_intermediate_have_no_enhanced_code()
    {
        Assert.Equal("220 mx.example ESMTP MailCluster\r\n", Wire(SmtpReplies.Greeting("mx.example")));
        Assert.Equal("354 End data with <CR><LF>.<CR><LF>\r\n", Wire(SmtpReplies.StartMailInput));
    }

    [Fact]
    public void ToString_is_the_wire_text_without_the_final_crlf()
    {
        Assert.Equal("221 2.0.0 Bye", SmtpReplies.Closing.ToString());
        Assert.Equal("250-a\r\n250 b", new SmtpReply(250, "", "a\nb").ToString());
    }

    [Fact]
    public void Carriage_returns_in_text_cannot_inject_lines() =>
        Assert.Equal("250-a\r\n250 b\r\n", Wire(new SmtpReply(250, "", "a\r\nb\r")));

    [Fact]
    public void Empty_text_and_code_write_a_bare_code()
    {
        Assert.Equal("334\r\n", Wire(SmtpReplies.AuthChallenge("")));
        Assert.Equal("250 2.0.0\r\n", Wire(new SmtpReply(250, "2.0.0", "")));
        Assert.Equal("250-\r\n250 x\r\n", Wire(new SmtpReply(250, "", "\nx")));
    }

    [Fact]
    public void Utf8_text_is_written_as_utf8() =>
        Assert.Equal("250 2.1.5 <jörg@exämple.de> OK\r\n", Wire(new SmtpReply(250, "2.1.5", "<jörg@exämple.de> OK")));

    [Fact]
    public void Default_reply_does_not_throw() => Assert.Equal("000\r\n", Wire(default));

    [Fact]
    public void Classification()
    {
        Assert.True(SmtpReplies.Ok.IsPositive);
        Assert.True(SmtpReplies.StartMailInput.IsIntermediate);
        Assert.True(SmtpReplies.LocalError.IsTransient);
        Assert.True(SmtpReplies.UnknownCommand.IsPermanent);
        Assert.True(SmtpReplies.BareLineEnding.ClosesConnection);
        Assert.True(SmtpReplies.Closing.ClosesConnection);
        Assert.False(SmtpReplies.Ok.ClosesConnection);
    }

    [Fact]
    public void Fixed_replies_have_rfc3463_codes_matching_their_class()
    {
        SmtpReply[] all =
        [
            SmtpReplies.Ok, SmtpReplies.SenderOk, SmtpReplies.RecipientOk, SmtpReplies.Closing, SmtpReplies.UnknownCommand,
            SmtpReplies.LineTooLong, SmtpReplies.BareLineEnding, SmtpReplies.UnknownParameter, SmtpReplies.BadAddress,
            SmtpReplies.BadSenderAddress, SmtpReplies.NeedMailFirst, SmtpReplies.MessageTooLarge, SmtpReplies.LocalError,
            SmtpReplies.TooManyRecipients, SmtpReplies.SyntaxError("x"), SmtpReplies.BadSequence("x"), SmtpReplies.Timeout,
        ];
        foreach (var reply in all)
        {
            Assert.Equal(reply.Code / 100, reply.EnhancedCode[0] - '0');
        }
    }
}
