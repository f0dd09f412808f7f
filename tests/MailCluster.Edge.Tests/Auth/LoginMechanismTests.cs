using System.Text;
using MailCluster.Edge.Auth;
using MailCluster.Smtp;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

public class LoginMechanismTests
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Challenges_are_username_then_password()
    {
        Assert.Equal("Username:", Encoding.ASCII.GetString(Convert.FromBase64String(LoginMechanism.UserNameChallenge)));
        Assert.Equal("Password:", Encoding.ASCII.GetString(Convert.FromBase64String(LoginMechanism.PasswordChallenge)));
    }

    [Fact]
    public void Full_exchange()
    {
        var login = new LoginMechanism();
        Assert.Equal(new SaslChallenge("VXNlcm5hbWU6"), login.Start(null));
        Assert.Equal(new SaslChallenge("UGFzc3dvcmQ6"), login.Continue(B64("alice")));
        Assert.Equal(new SaslCredentials(string.Empty, "alice", "secret"), login.Continue(B64("secret")));
    }

    [Fact]
    public void Initial_response_is_the_user_name()
    {
        var login = new LoginMechanism();
        Assert.Equal(new SaslChallenge(LoginMechanism.PasswordChallenge), login.Start(B64("alice")));
        Assert.Equal(new SaslCredentials(string.Empty, "alice", "secret"), login.Continue(B64("secret")));
    }

    [Fact]
    public void Utf8_user_name_and_password()
    {
        var login = new LoginMechanism();
        login.Start(B64("jürgen"));
        Assert.Equal(new SaslCredentials(string.Empty, "jürgen", "pässwörd 🔑"), login.Continue(B64("pässwörd 🔑")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Star_cancels_at_either_step(bool atPassword)
    {
        var login = new LoginMechanism();
        login.Start(null);
        if (atPassword)
        {
            login.Continue(B64("alice"));
        }

        Assert.Equal(new SaslFailure(SmtpReplies.AuthCancelled), login.Continue("*"));
        Assert.Throws<InvalidOperationException>(() => login.Continue(B64("secret")));
    }

    [Fact]
    public void Star_as_initial_response_cancels() =>
        Assert.Equal(new SaslFailure(SmtpReplies.AuthCancelled), new LoginMechanism().Start("*"));

    [Fact]
    public void Equals_sign_initial_response_is_an_empty_user_name() =>
        Assert.Equal(new SaslFailure(SaslReplies.Malformed), new LoginMechanism().Start("="));

    [Fact]
    public void Empty_user_name_is_malformed()
    {
        var login = new LoginMechanism();
        login.Start(null);
        Assert.Equal(new SaslFailure(SaslReplies.Malformed), login.Continue(string.Empty));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sec\0ret")]
    public void Empty_or_nul_password_is_malformed(string password)
    {
        var login = new LoginMechanism();
        login.Start(B64("alice"));
        Assert.Equal(new SaslFailure(SaslReplies.Malformed), login.Continue(B64(password)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Invalid_base64_is_501_5_5_2(bool atPassword)
    {
        var login = new LoginMechanism();
        login.Start(atPassword ? B64("alice") : null);
        Assert.Equal(new SaslFailure(SaslReplies.BadBase64), login.Continue("YWxpY2U"));
    }

    [Fact]
    public void Invalid_base64_initial_response() =>
        Assert.Equal(new SaslFailure(SaslReplies.BadBase64), new LoginMechanism().Start("!!!!"));

    [Fact]
    public void Invalid_utf8_is_malformed()
    {
        var login = new LoginMechanism();
        login.Start(null);
        Assert.Equal(new SaslFailure(SaslReplies.Malformed), login.Continue(Convert.ToBase64String([0xFF, 0xFE])));
    }

    [Fact]
    public void Over_long_line_is_500_5_5_6()
    {
        var login = new LoginMechanism();
        login.Start(B64("alice"));
        Assert.Equal(new SaslFailure(SmtpReplies.LineTooLong), login.Continue(new string('A', SaslMechanisms.MaxResponseLength + 4)));
    }

    [Fact]
    public void Exchange_is_single_use()
    {
        var login = new LoginMechanism();
        login.Start(B64("alice"));
        login.Continue(B64("secret"));
        Assert.Throws<InvalidOperationException>(() => login.Continue(B64("secret")));
        Assert.Throws<InvalidOperationException>(() => login.Start(null));
        Assert.Throws<InvalidOperationException>(() => new LoginMechanism().Continue(B64("alice")));
    }
}
