namespace MailCluster.Smtp.Tests;

public class SmtpCommandParserTests
{
    internal static SmtpCommand Ok(string line)
    {
        var result = SmtpCommandParser.Parse(Bytes.Seq(line));
        Assert.True(result.IsSuccess, $"'{line}' -> {result.Error}");
        Assert.Null(result.Error);
        return result.Command!;
    }

    internal static SmtpReply Err(string line)
    {
        var result = SmtpCommandParser.Parse(Bytes.Seq(line));
        Assert.Null(result.Command);
        Assert.NotNull(result.Error);
        return result.Error.Value;
    }

    internal static void ErrCode(string line, int code, string enhanced)
    {
        var reply = Err(line);
        Assert.True(code == reply.Code && enhanced == reply.EnhancedCode, $"'{line}' -> {reply}");
    }

    [Theory]
    [InlineData("DATA", SmtpVerb.Data)]
    [InlineData("RSET", SmtpVerb.Rset)]
    [InlineData("NOOP", SmtpVerb.Noop)]
    [InlineData("QUIT", SmtpVerb.Quit)]
    [InlineData("HELP", SmtpVerb.Help)]
    [InlineData("STARTTLS", SmtpVerb.StartTls)]
    [InlineData("data", SmtpVerb.Data)]
    [InlineData("qUiT", SmtpVerb.Quit)]
    [InlineData("StartTLS", SmtpVerb.StartTls)]
    [InlineData("QUIT  ", SmtpVerb.Quit)]
    [InlineData("RSET\t", SmtpVerb.Rset)]
    public void Argumentless_verbs(string line, SmtpVerb verb) => Assert.Equal(new SimpleCommand(verb, ""), Ok(line));

    [Theory]
    [InlineData("NOOP hello there", SmtpVerb.Noop, "hello there")]
    [InlineData("HELP mail", SmtpVerb.Help, "mail")]
    [InlineData("VRFY postmaster", SmtpVerb.Vrfy, "postmaster")]
    [InlineData("vrfy <a@b.c>", SmtpVerb.Vrfy, "<a@b.c>")]
    [InlineData("EXPN staff", SmtpVerb.Expn, "staff")]
    [InlineData("EXPN  jörg", SmtpVerb.Expn, "jörg")]
    public void Verbs_with_free_arguments(string line, SmtpVerb verb, string argument) =>
        Assert.Equal(new SimpleCommand(verb, argument), Ok(line));

    [Theory]
    [InlineData("DATA x")]
    [InlineData("RSET now")]
    [InlineData("QUIT bye")]
    [InlineData("STARTTLS please")]
    [InlineData("VRFY")]
    [InlineData("EXPN  ")]
    public void Argument_present_or_missing_wrongly_is_501(string line) => ErrCode(line, 501, "5.5.4");

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("FOO")]
    [InlineData("MAILFROM:<a@b>")]
    [InlineData("HELOX x")]
    [InlineData(" HELO x")]
    [InlineData("GET / HTTP/1.1")]
    [InlineData("DAT")]
    [InlineData("STARTTLSX")]
    [InlineData("HÉLO x")]
    public void Unknown_verb_is_500_5_5_2(string line) => ErrCode(line, 500, "5.5.2");

    [Theory]
    [InlineData("TURN")]
    [InlineData("etrn example.com")]
    [InlineData("SOML FROM:<a@b>")]
    public void Obsolete_verbs_are_502(string line) => ErrCode(line, 502, "5.5.1");

    [Theory]
    [InlineData("EHLO client.example.com", true, "client.example.com")]
    [InlineData("ehlo CLIENT", true, "CLIENT")]
    [InlineData("HELO client.example.com", false, "client.example.com")]
    [InlineData("EHLO [192.0.2.1]", true, "[192.0.2.1]")]
    [InlineData("EHLO [IPv6:2001:db8::1]", true, "[IPv6:2001:db8::1]")]
    [InlineData("EHLO [ipv6:::ffff:192.0.2.1]", true, "[ipv6:::ffff:192.0.2.1]")]
    [InlineData("EHLO [x-tag:some.thing]", true, "[x-tag:some.thing]")]
    [InlineData("EHLO my_pc.local", true, "my_pc.local")]
    [InlineData("EHLO bücher.de", true, "bücher.de")]
    [InlineData("HELO   spaced.example  ", false, "spaced.example")]
    public void Helo_and_ehlo(string line, bool extended, string domain)
    {
        var command = Assert.IsType<HeloCommand>(Ok(line));
        Assert.Equal(extended, command.Extended);
        Assert.Equal(extended ? SmtpVerb.Ehlo : SmtpVerb.Helo, command.Verb);
        Assert.Equal(domain, command.Domain);
        Assert.Equal(domain.StartsWith('['), command.IsAddressLiteral);
    }

    [Theory]
    [InlineData("EHLO")]
    [InlineData("HELO ")]
    [InlineData("EHLO two words")]
    [InlineData("EHLO [192.0.2.256]")]
    [InlineData("EHLO [192.0.2]")]
    [InlineData("EHLO [1.2.3.4.5]")]
    [InlineData("EHLO [IPv6:2001:db8::g]")]
    [InlineData("EHLO [IPv6:1.2.3.4]")]
    [InlineData("EHLO [IPv6:fe80::1%eth0]")]
    [InlineData("EHLO [192.0.2.1")]
    [InlineData("EHLO []")]
    [InlineData("EHLO a@b")]
    [InlineData("EHLO <a>")]
    [InlineData("EHLO .leading")]
    public void Bad_helo_is_501(string line) => ErrCode(line, 501, "5.5.4");

    [Fact]
    public void Helo_domain_longer_than_255_is_rejected() => ErrCode("EHLO " + new string('a', 256), 501, "5.5.4");

    [Theory]
    [InlineData("BDAT 0", 0L, false)]
    [InlineData("BDAT 1000", 1000L, false)]
    [InlineData("bdat 1000 last", 1000L, true)]
    [InlineData("BDAT 0 LAST", 0L, true)]
    [InlineData("BDAT 007 LAST", 7L, true)]
    [InlineData("BDAT 9223372036854775807", long.MaxValue, false)]
    public void Bdat(string line, long size, bool last) => Assert.Equal(new BdatCommand(size, last), Ok(line));

    [Theory]
    [InlineData("BDAT")]
    [InlineData("BDAT -1")]
    [InlineData("BDAT +1")]
    [InlineData("BDAT 1.5")]
    [InlineData("BDAT 9223372036854775808")]
    [InlineData("BDAT 10 FIRST")]
    [InlineData("BDAT 10 LAST x")]
    [InlineData("BDAT LAST")]
    public void Bad_bdat_is_501(string line) => ErrCode(line, 501, "5.5.4");

    [Theory]
    [InlineData("AUTH PLAIN", "PLAIN", null)]
    [InlineData("auth login", "LOGIN", null)]
    [InlineData("AUTH PLAIN AHVzZXIAcGFzcw==", "PLAIN", "AHVzZXIAcGFzcw==")]
    [InlineData("AUTH EXTERNAL =", "EXTERNAL", "=")]
    [InlineData("AUTH SCRAM-SHA-256", "SCRAM-SHA-256", null)]
    [InlineData("AUTH XOAUTH2 dXNlcj1h", "XOAUTH2", "dXNlcj1h")]
    public void Auth(string line, string mechanism, string? initial) => Assert.Equal(new AuthCommand(mechanism, initial), Ok(line));

    [Theory]
    [InlineData("AUTH")]
    [InlineData("AUTH PL@IN")]
    [InlineData("AUTH ABCDEFGHIJKLMNOPQRSTU")]
    [InlineData("AUTH PLAIN not*base64")]
    [InlineData("AUTH PLAIN abc")]
    [InlineData("AUTH PLAIN AAAA AAAA")]
    public void Bad_auth_is_501(string line) => ErrCode(line, 501, "5.5.4");

    [Theory]
    [InlineData("NOOP a\0b")]
    [InlineData("VRFY a\u0001b")]
    [InlineData("EHLO a\u007fb")]
    [InlineData("MAIL FROM:<a\u0000@b>")]
    public void Control_characters_in_arguments_are_501(string line) => ErrCode(line, 501, "5.5.4");

    [Fact]
    public void Invalid_utf8_in_arguments_is_501()
    {
        byte[] line = [.. Bytes.Of("MAIL FROM:<"), 0xC3, 0x28, .. Bytes.Of("@b.c>")];
        var result = SmtpCommandParser.Parse(new System.Buffers.ReadOnlySequence<byte>(line));
        Assert.Equal(501, result.Error!.Value.Code);
    }

    [Fact]
    public void Multi_segment_line_parses_like_a_single_segment()
    {
        var text = Bytes.Of("MAIL FROM:<jörg@bücher.de> SIZE=100 BODY=8bitmime");
        for (var cut = 0; cut <= text.Length; cut++)
        {
            var mail = Assert.IsType<MailCommand>(SmtpCommandParser.Parse(Bytes.Split(text, cut, cut + 3)).Command);
            Assert.Equal("jörg@bücher.de", mail.ReversePath.Address);
            Assert.Equal(100, mail.Size);
        }

        Assert.IsType<MailCommand>(SmtpCommandParser.Parse(Bytes.Bytewise(text)).Command);
    }

    [Fact]
    public void Very_long_lines_are_answered_not_thrown()
    {
        Assert.Equal(500, Err("NOOP " + new string('x', SmtpCommandParser.MaxLineLength)).Code);
        var big = Bytes.Of("NOOP " + new string('x', SmtpCommandParser.MaxLineLength));
        Assert.Equal(SmtpReplies.LineTooLong, SmtpCommandParser.Parse(Bytes.Split(big, 10)).Error);
        Assert.Equal(SmtpVerb.Noop, Ok("NOOP " + new string('x', 5000)).Verb);
        ErrCode("MAIL FROM:<" + new string('a', 5000) + "@" + new string('b', 300) + ">", 553, "5.1.7");
    }

    [Fact]
    public void Verb_names_round_trip()
    {
        foreach (var verb in Enum.GetValues<SmtpVerb>())
        {
            var line = SmtpCommandParser.Name(verb) + verb switch
            {
                SmtpVerb.Helo or SmtpVerb.Ehlo => " x.example",
                SmtpVerb.Mail => " FROM:<>",
                SmtpVerb.Rcpt => " TO:<a@b.example>",
                SmtpVerb.Bdat => " 1",
                SmtpVerb.Auth => " PLAIN",
                SmtpVerb.Vrfy or SmtpVerb.Expn => " x",
                _ => "",
            };
            Assert.Equal(verb, Ok(line).Verb);
            Assert.Equal(verb, Ok(line.ToLowerInvariant()).Verb);
        }
    }
}
