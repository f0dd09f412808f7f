using static MailCluster.Smtp.Tests.SmtpCommandParserTests;

namespace MailCluster.Smtp.Tests;

public class MailRcptParserTests
{
    private static MailCommand Mail(string line) => Assert.IsType<MailCommand>(Ok(line));

    private static RcptCommand Rcpt(string line) => Assert.IsType<RcptCommand>(Ok(line));

    [Theory]
    [InlineData("MAIL FROM:<alice@example.com>", "alice", "example.com")]
    [InlineData("mail from:<alice@example.com>", "alice", "example.com")]
    [InlineData("MAIL FROM: <alice@example.com>", "alice", "example.com")]
    [InlineData("MAIL  FROM:  <alice@example.com>  ", "alice", "example.com")]
    [InlineData("MAIL FROM:<first.last+tag@sub.example.co.uk>", "first.last+tag", "sub.example.co.uk")]
    [InlineData("MAIL FROM:<!#$%&'*+-/=?^_`{|}~@x.y>", "!#$%&'*+-/=?^_`{|}~", "x.y")]
    [InlineData("MAIL FROM:<\"john doe\"@example.com>", "\"john doe\"", "example.com")]
    [InlineData("MAIL FROM:<\"a\\\"b@c\"@example.com>", "\"a\\\"b@c\"", "example.com")]
    [InlineData("MAIL FROM:<\"with>bracket\"@example.com>", "\"with>bracket\"", "example.com")]
    [InlineData("MAIL FROM:<user@[192.0.2.1]>", "user", "[192.0.2.1]")]
    [InlineData("MAIL FROM:<user@[IPv6:2001:db8::1]>", "user", "[IPv6:2001:db8::1]")]
    [InlineData("MAIL FROM:<@relay1.example,@relay2.example:user@example.com>", "user", "example.com")]
    [InlineData("MAIL FROM:<a@123.example>", "a", "123.example")]
    [InlineData("MAIL FROM:<a@x-y.example>", "a", "x-y.example")]
    public void Mail_paths(string line, string local, string domain)
    {
        var mail = Mail(line);
        Assert.Equal(new SmtpPath(local, domain), mail.ReversePath);
        Assert.Equal(local + "@" + domain, mail.ReversePath.Address);
        Assert.False(mail.ReversePath.IsNull);
        Assert.False(mail.ReversePath.IsUtf8);
        Assert.Empty(mail.Parameters);
    }

    [Theory]
    [InlineData("MAIL FROM:<>")]
    [InlineData("MAIL FROM: <>")]
    [InlineData("mail from:<> SIZE=10")]
    public void Null_reverse_path(string line)
    {
        var mail = Mail(line);
        Assert.True(mail.ReversePath.IsNull);
        Assert.Equal(SmtpPath.Null, mail.ReversePath);
        Assert.Equal("", mail.ReversePath.Address);
        Assert.Equal("<>", mail.ReversePath.ToString());
    }

    [Theory]
    [InlineData("MAIL FROM:<jörg@bücher.de> SMTPUTF8", "jörg", "bücher.de")]
    [InlineData("MAIL FROM:<用户@例子.广告>", "用户", "例子.广告")]
    [InlineData("MAIL FROM:<\"ünïcode quoted\"@example.com>", "\"ünïcode quoted\"", "example.com")]
    [InlineData("MAIL FROM:<ascii@xn--bcher-kva.de>", "ascii", "xn--bcher-kva.de")]
    public void Utf8_paths_are_flagged(string line, string local, string domain)
    {
        var path = Mail(line).ReversePath;
        Assert.Equal(new SmtpPath(local, domain), path);
        Assert.Equal(!line.Contains("xn--", StringComparison.Ordinal), path.IsUtf8);
    }

    [Fact]
    public void Mail_parameters_are_upper_cased_and_checked()
    {
        var mail = Mail("MAIL FROM:<a@b.c> size=12345 body=8bitmime SmtpUtf8 ret=hdrs ENVID=QQ+2B314 AUTH=<>");
        Assert.Equal(12345, mail.Size);
        Assert.Equal("8BITMIME", mail.Body);
        Assert.True(mail.SmtpUtf8);
        Assert.Equal("HDRS", mail.Parameters["RET"]);
        Assert.Equal("QQ+2B314", mail.Parameters["ENVID"]);
        Assert.Equal("<>", mail.Parameters["AUTH"]);
        Assert.Null(mail.Parameters["SMTPUTF8"]);
        Assert.Equal("12345", mail.Parameters["size"]); // lookups are case-insensitive too
        Assert.Equal(["AUTH", "BODY", "ENVID", "RET", "SIZE", "SMTPUTF8"], mail.Parameters.Keys.Order());
    }

    [Fact]
    public void Absent_parameters_give_nulls()
    {
        var mail = Mail("MAIL FROM:<a@b.c>");
        Assert.Null(mail.Size);
        Assert.Null(mail.Body);
        Assert.False(mail.SmtpUtf8);
    }

    [Fact]
    public void Rcpt_parameters()
    {
        var rcpt = Rcpt("RCPT TO:<a@b.c> NOTIFY=success,Failure ORCPT=rfc822;a+40b.c");
        Assert.Equal("SUCCESS,FAILURE", rcpt.Parameters["NOTIFY"]);
        Assert.Equal("rfc822;a+40b.c", rcpt.Parameters["ORCPT"]);
        Assert.Equal("NEVER", Rcpt("RCPT TO:<a@b.c> NOTIFY=never").Parameters["NOTIFY"]);
        Assert.Equal("utf-8;jörg@b.c", Rcpt("RCPT TO:<a@b.c> ORCPT=utf-8;jörg@b.c").Parameters["ORCPT"]);
    }

    [Theory]
    [InlineData("MAIL FROM:<a@b.c> SIZE=abc")]
    [InlineData("MAIL FROM:<a@b.c> SIZE=")]
    [InlineData("MAIL FROM:<a@b.c> SIZE")]
    [InlineData("MAIL FROM:<a@b.c> SIZE=-1")]
    [InlineData("MAIL FROM:<a@b.c> SIZE=99999999999999999999")]
    [InlineData("MAIL FROM:<a@b.c> SIZE=1 SIZE=2")]
    [InlineData("MAIL FROM:<a@b.c> BODY=9BIT")]
    [InlineData("MAIL FROM:<a@b.c> SMTPUTF8=yes")]
    [InlineData("MAIL FROM:<a@b.c> RET=ALL")]
    [InlineData("MAIL FROM:<a@b.c> ENVID=a+zz")]
    [InlineData("MAIL FROM:<a@b.c> -SIZE=1")]
    [InlineData("MAIL FROM:<a@b.c> =1")]
    [InlineData("MAIL FROM:<a@b.c> SIZE=1=2")]
    [InlineData("MAIL FROM:<a@b.c>SIZE=1")]
    [InlineData("RCPT TO:<a@b.c> NOTIFY=NEVER,SUCCESS")]
    [InlineData("RCPT TO:<a@b.c> NOTIFY=SOMETIMES")]
    [InlineData("RCPT TO:<a@b.c> NOTIFY=SUCCESS,")]
    [InlineData("RCPT TO:<a@b.c> ORCPT=noaddress")]
    [InlineData("RCPT TO:<a@b.c> ORCPT=rfc822;")]
    public void Bad_parameter_values_are_501(string line) => ErrCode(line, 501, "5.5.4");

    [Theory]
    [InlineData("MAIL FROM:<a@b.c> XFOO=1")]
    [InlineData("MAIL FROM:<a@b.c> NOTIFY=NEVER")]
    [InlineData("RCPT TO:<a@b.c> SIZE=10")]
    [InlineData("RCPT TO:<a@b.c> X-UNKNOWN")]
    public void Unknown_parameters_are_555(string line) => ErrCode(line, 555, "5.5.4");

    [Theory]
    [InlineData("RCPT TO:<bob@example.org>", "bob", "example.org")]
    [InlineData("rcpt to: <bob@example.org>", "bob", "example.org")]
    [InlineData("RCPT TO:<Postmaster>", "Postmaster", "")]
    [InlineData("RCPT TO:<postMASTER>", "postMASTER", "")]
    [InlineData("RCPT TO:<Postmaster@example.org>", "Postmaster", "example.org")]
    [InlineData("RCPT TO:<@hop.example:bob@example.org>", "bob", "example.org")]
    public void Rcpt_paths(string line, string local, string domain)
    {
        var rcpt = Rcpt(line);
        Assert.Equal(new SmtpPath(local, domain), rcpt.ForwardPath);
        Assert.False(rcpt.ForwardPath.IsNull);
        Assert.Equal(domain.Length == 0 ? local : local + "@" + domain, rcpt.ForwardPath.Address);
    }

    [Theory]
    [InlineData("MAIL")]
    [InlineData("MAIL FROM")]
    [InlineData("MAIL TO:<a@b.c>")]
    [InlineData("MAIL FROM:a@b.c")]
    [InlineData("MAIL FROM:")]
    [InlineData("MAIL FROM:\"a\"@b.c")]
    [InlineData("RCPT")]
    [InlineData("RCPT TO")]
    [InlineData("RCPT FROM:<a@b.c>")]
    [InlineData("RCPT TO:bob@example.org")]
    public void Malformed_command_structure_is_501(string line) => ErrCode(line, 501, "5.5.4");

    [Theory]
    [InlineData("MAIL FROM:<a@b.c")]
    [InlineData("MAIL FROM:<a>")]
    [InlineData("MAIL FROM:<Postmaster>")]
    [InlineData("MAIL FROM:<@b.c>")]
    [InlineData("MAIL FROM:<a@>")]
    [InlineData("MAIL FROM:<a@@b.c>")]
    [InlineData("MAIL FROM:<a b@c.d>")]
    [InlineData("MAIL FROM:<.a@b.c>")]
    [InlineData("MAIL FROM:<a.@b.c>")]
    [InlineData("MAIL FROM:<a..b@c.d>")]
    [InlineData("MAIL FROM:<a@b..c>")]
    [InlineData("MAIL FROM:<a@-b.c>")]
    [InlineData("MAIL FROM:<a@b-.c>")]
    [InlineData("MAIL FROM:<a@b.c.>")]
    [InlineData("MAIL FROM:<a@b_c.d>")]
    [InlineData("MAIL FROM:<a@[300.0.0.1]>")]
    [InlineData("MAIL FROM:<a@[1.2.3]>")]
    [InlineData("MAIL FROM:<\"unterminated@b.c>")]
    [InlineData("MAIL FROM:<\"bad\\\u00e9\"@b.c>")]
    [InlineData("MAIL FROM:<a(comment)@b.c>")]
    [InlineData("MAIL FROM:<@relay:>")]
    [InlineData("MAIL FROM:<@relay a@b.c>")]
    [InlineData("MAIL FROM:<@,@x:a@b.c>")]
    [InlineData("MAIL FROM:<<a@b.c>>")]
    public void Bad_sender_mailbox_is_553_5_1_7(string line) => ErrCode(line, 553, "5.1.7");

    [Theory]
    [InlineData("RCPT TO:<>")]
    [InlineData("RCPT TO:<bob>")]
    [InlineData("RCPT TO:<@x:Postmaster>")]
    [InlineData("RCPT TO:<\"Postmaster\">")]
    [InlineData("RCPT TO:<bob@example..org>")]
    [InlineData("RCPT TO:<bob@example.org")]
    public void Bad_recipient_mailbox_is_553_5_1_3(string line) => ErrCode(line, 553, "5.1.3");

    [Fact]
    public void Domain_label_and_total_length_limits()
    {
        Assert.IsType<MailCommand>(Ok($"MAIL FROM:<a@{new string('l', 63)}.example>"));
        ErrCode($"MAIL FROM:<a@{new string('l', 64)}.example>", 553, "5.1.7");
        var domain = string.Join('.', Enumerable.Repeat(new string('d', 50), 6)); // 305 octets
        ErrCode($"RCPT TO:<a@{domain}>", 553, "5.1.3");
    }

    [Fact]
    public void Long_local_parts_are_accepted_for_interop()
    {
        // RFC 5321 §4.5.3.1 asks servers not to enforce the 64-octet local-part limit where they can avoid it (VERP, SRS).
        var local = new string('v', 200);
        Assert.Equal(local, Assert.IsType<RcptCommand>(Ok($"RCPT TO:<{local}@example.com>")).ForwardPath.LocalPart);
    }

    [Fact]
    public void Path_to_string_is_bracketed() =>
        Assert.Equal("<a@b.c>", new SmtpPath("a", "b.c").ToString());
}
