using MailCluster.Edge.Auth;
using MailCluster.Smtp;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

public class SaslMechanismsTests
{
    [Fact]
    public void Advertises_plain_and_login() => Assert.Equal(["PLAIN", "LOGIN"], SaslMechanisms.Advertised);

    [Theory]
    [InlineData("PLAIN", typeof(PlainMechanism))]
    [InlineData("plain", typeof(PlainMechanism))]
    [InlineData("Login", typeof(LoginMechanism))]
    public void Creates_by_case_insensitive_name(string name, Type expected)
    {
        var mechanism = SaslMechanisms.Create(name);
        Assert.IsType(expected, mechanism);
        Assert.Equal(name.ToUpperInvariant(), mechanism!.Name);
    }

    [Fact]
    public void Every_advertised_mechanism_can_be_created() =>
        Assert.All(SaslMechanisms.Advertised, name => Assert.NotNull(SaslMechanisms.Create(name)));

    [Theory]
    [InlineData("CRAM-MD5")]
    [InlineData("XOAUTH2")]
    [InlineData("")]
    [InlineData("PLAIN ")]
    public void Unknown_mechanism_is_null(string name) => Assert.Null(SaslMechanisms.Create(name));

    [Fact]
    public void Each_create_is_a_fresh_exchange() =>
        Assert.NotSame(SaslMechanisms.Create("PLAIN"), SaslMechanisms.Create("PLAIN"));

    [Fact]
    public void Failure_replies_carry_rfc_4954_codes()
    {
        Assert.Equal((504, "5.5.4"), (SaslMechanisms.UnknownMechanism.Reply.Code, SaslMechanisms.UnknownMechanism.Reply.EnhancedCode));
        Assert.Equal((501, "5.5.2"), (SaslReplies.BadBase64.Code, SaslReplies.BadBase64.EnhancedCode));
        Assert.Equal((501, "5.5.2"), (SaslReplies.Malformed.Code, SaslReplies.Malformed.EnhancedCode));
        Assert.Equal(501, SmtpReplies.AuthCancelled.Code);
        Assert.Equal((500, "5.5.6"), (SmtpReplies.LineTooLong.Code, SmtpReplies.LineTooLong.EnhancedCode));
    }
}
