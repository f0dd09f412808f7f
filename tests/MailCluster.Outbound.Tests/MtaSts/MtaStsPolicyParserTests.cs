using MailCluster.Outbound.MtaSts;

namespace MailCluster.Outbound.Tests.MtaSts;

/// <summary>RFC 8461 §3.2 policy bodies, §4.1 MX matching, §3.1 TXT records.</summary>
public class MtaStsPolicyParserTests
{
    [Fact]
    public void Parses_the_rfc_example_with_crlf()
    {
        var (policy, error) = MtaStsPolicyParser.Parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n");
        Assert.Null(error);
        Assert.NotNull(policy);
        Assert.Equal(MtaStsMode.Enforce, policy.Mode);
        Assert.Equal(["mail.example.com", "*.example.net", "backupmx.example.com"], policy.Mx);
        Assert.Equal(TimeSpan.FromSeconds(604800), policy.MaxAge);
        Assert.Equal(6, policy.PolicyStrings.Count);
    }

    [Theory]
    [InlineData("version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400", MtaStsMode.Testing)]
    [InlineData("version: STSv1\nmode: none\nmax_age: 0\n", MtaStsMode.None)]
    [InlineData("version:STSv1\nmode:\tenforce\nmx: mx.example.com\nmax_age: 31557600\nextension_key: anything\n", MtaStsMode.Enforce)]
    [InlineData("version: STSv1\nmode: enforce\nmode: none\nmx: mx.example.com\nmax_age: 60\n", MtaStsMode.Enforce)]
    public void Accepts(string text, MtaStsMode mode) =>
        Assert.Equal(mode, MtaStsPolicyParser.Parse(text).Policy?.Mode);

    [Theory]
    [InlineData("", "version is missing")]
    [InlineData("version: STSv2\nmode: enforce\nmx: mx.example.com\nmax_age: 60\n", "STSv2")]
    [InlineData("version: STSv1\nmode: Enforce\nmx: mx.example.com\nmax_age: 60\n", "Enforce")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx.example.com\n", "max_age is missing")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 31557601\n", "31557601")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 12345678901\n", "12345678901")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: -1\n", "-1")]
    [InlineData("version: STSv1\nmode: enforce\nmax_age: 60\n", "no mx")]
    [InlineData("version: STSv1\nmode: enforce\nmx: *.*.example.com\nmax_age: 60\n", "*.*.example.com")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx.example.com\n\nmax_age: 60\n", "empty line")]
    [InlineData("version: STSv1\nmode enforce\nmx: mx.example.com\nmax_age: 60\n", "line 2")]
    [InlineData("version: STSv1\rmode: enforce\nmx: mx.example.com\nmax_age: 60\n", "line 1")]
    public void Rejects(string text, string reason)
    {
        var (policy, error) = MtaStsPolicyParser.Parse(text);
        Assert.Null(policy);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mail.example.com", true)]
    [InlineData("MAIL.Example.COM.", true)]
    [InlineData("mx1.example.net", true)]
    [InlineData("example.net", false)]
    [InlineData("a.b.example.net", false)]
    [InlineData("mail.example.org", false)]
    [InlineData("xexample.net", false)]
    public void Matches_mx_with_the_leading_wildcard_rule(string host, bool allowed)
    {
        var policy = MtaStsPolicyParser.Parse("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 60\n").Policy!;
        Assert.Equal(allowed, policy.AllowsMx(host));
    }

    [Theory]
    [InlineData(new[] { "v=STSv1; id=20160831085700Z;" }, "20160831085700Z")]
    [InlineData(new[] { "v=spf1 -all", "v=STSv1;id=abc" }, "abc")]
    [InlineData(new[] { "v=STSv1; id=abc; ext=1" }, "abc")]
    public void Finds_the_txt_id(string[] records, string id) => Assert.Equal(id, MtaStsRecord.FindId(records).Id);

    [Theory]
    [InlineData(new string[0], "no v=STSv1")]
    [InlineData(new[] { "v=STSv1; id=a;", "v=STSv1; id=b;" }, "2 v=STSv1")]
    [InlineData(new[] { "v=STSv1;" }, "without id")]
    [InlineData(new[] { "v=STSv1; id=not_alnum;" }, "not_alnum")]
    [InlineData(new[] { "v=STSv1; id=123456789012345678901234567890123;" }, "1-32")]
    [InlineData(new[] { "v=STSv10; id=a;" }, "no v=STSv1")]
    public void Refuses_txt(string[] records, string reason) =>
        Assert.Contains(reason, MtaStsRecord.FindId(records).Error, StringComparison.Ordinal);
}
