using MailCluster.Edge.Session;
using MailCluster.Smtp;
using Xunit;

namespace MailCluster.Edge.Tests.Session;

/// <summary>The replies built once per node: the same wire text as building them per connection, per session state.</summary>
public class SessionReplyCacheTests
{
    private const string Common = "PIPELINING\nSIZE 1000\n8BITMIME\nSMTPUTF8\nENHANCEDSTATUSCODES\nCHUNKING\nDSN";

    [Theory]
    [InlineData(false, true, true, Common + "\nSTARTTLS")]
    [InlineData(true, false, false, Common)]
    [InlineData(true, true, false, Common + "\nAUTH PLAIN LOGIN")]
    [InlineData(true, false, true, Common + "\nAUTH XOAUTH2 OAUTHBEARER")]
    [InlineData(true, true, true, Common + "\nAUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER")]
    public void Keyword_lines_follow_tls_and_the_mechanisms_offered(bool tls, bool password, bool bearer, string expected)
    {
        var cache = SessionReplyCache.For("mx.cache.test", 1000);
        Assert.Equal(expected, cache.EhloKeywords(tls, password, bearer));
        Assert.Same(cache.EhloKeywords(tls, password, bearer), cache.EhloKeywords(tls, password, bearer));
    }

    [Fact]
    public void Cached_ehlo_reply_is_the_wire_text_of_the_listed_one()
    {
        var lines = SessionReplyCache.For("mx.cache.test", 1000).EhloKeywords(tls: false, password: false, bearer: false);
        Assert.Equal(
            SmtpReplies.Ehlo("mx.cache.test", "client.test", lines.Split('\n')).ToString(),
            SmtpReplies.Ehlo("mx.cache.test", "client.test", lines).ToString());
        Assert.Equal("250 mx.cache.test Hello client.test", SmtpReplies.Ehlo("mx.cache.test", "client.test", "").ToString());
    }

    [Fact]
    public void Other_settings_get_their_own_replies()
    {
        var first = SessionReplyCache.For("one.cache.test", 1000);
        var other = SessionReplyCache.For("two.cache.test", 2000);
        Assert.Equal("220 two.cache.test ESMTP MailCluster", other.Greeting.ToString());
        Assert.Equal("221 2.0.0 two.cache.test closing connection", other.Closing.ToString());
        Assert.Contains("SIZE 2000", other.EhloKeywords(false, false, false), StringComparison.Ordinal);
        Assert.Equal("220 one.cache.test ESMTP MailCluster", first.Greeting.ToString());
        Assert.Contains("SIZE 1000", first.EhloKeywords(false, false, false), StringComparison.Ordinal);
    }
}
