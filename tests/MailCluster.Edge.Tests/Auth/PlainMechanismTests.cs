using System.Text;
using MailCluster.Edge.Auth;
using MailCluster.Smtp;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

public class PlainMechanismTests
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Initial_response_on_the_auth_line()
    {
        var step = new PlainMechanism().Start(B64("\0alice\0secret"));
        Assert.Equal(new SaslCredentials(string.Empty, "alice", "secret"), step);
    }

    [Fact]
    public void Without_initial_response_sends_an_empty_challenge_then_takes_the_response()
    {
        var plain = new PlainMechanism();
        Assert.Equal(new SaslChallenge(string.Empty), plain.Start(null));
        Assert.Equal(new SaslCredentials(string.Empty, "alice", "secret"), plain.Continue(B64("\0alice\0secret")));
    }

    [Fact]
    public void Utf8_identities_and_password()
    {
        var step = new PlainMechanism().Start(B64("\0jürgen\0pässwörd 🔑"));
        Assert.Equal(new SaslCredentials(string.Empty, "jürgen", "pässwörd 🔑"), step);
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("ALICE")] // same user: names are case-insensitive
    public void Authzid_equal_to_authcid_is_accepted(string authzid) =>
        Assert.Equal(new SaslCredentials(authzid, "alice", "secret"), new PlainMechanism().Start(B64(authzid + "\0alice\0secret")));

    [Fact]
    public void Authzid_for_another_user_is_an_authentication_failure() =>
        Assert.Equal(new SaslFailure(SmtpReplies.AuthFailed), new PlainMechanism().Start(B64("bob\0alice\0secret")));

    [Theory]
    [InlineData("\0\0secret")]               // empty authcid
    [InlineData("\0alice\0")]                // empty password
    [InlineData("alice\0secret")]            // one NUL
    [InlineData("\0alice\0sec\0ret")]        // three NULs
    [InlineData("")]                         // nothing
    public void Malformed_message_is_501_5_5_2(string message) =>
        Assert.Equal(new SaslFailure(SaslReplies.Malformed), new PlainMechanism().Start(B64(message)));

    [Fact]
    public void Equals_sign_is_a_zero_length_initial_response_which_is_malformed() =>
        Assert.Equal(new SaslFailure(SaslReplies.Malformed), new PlainMechanism().Start("="));

    [Fact]
    public void Equals_sign_is_not_special_after_a_challenge()
    {
        var plain = new PlainMechanism();
        plain.Start(null);
        Assert.Equal(new SaslFailure(SaslReplies.BadBase64), plain.Continue("="));
    }

    [Fact]
    public void Invalid_utf8_is_malformed() =>
        Assert.Equal(new SaslFailure(SaslReplies.Malformed), new PlainMechanism().Start(Convert.ToBase64String([0, (byte)'a', 0, 0xC3, 0x28])));

    [Theory]
    [InlineData("not base64!")]
    [InlineData("AGFsaWNlAHNlY3JldA")]        // padding missing
    [InlineData("AGFsaWNl AHNlY3JldA==")]     // white space inside
    [InlineData(" AGFsaWNlAHNlY3JldA==")]
    public void Invalid_base64_is_501_5_5_2(string line)
    {
        Assert.Equal(new SaslFailure(SaslReplies.BadBase64), new PlainMechanism().Start(line));
        var plain = new PlainMechanism();
        plain.Start(null);
        Assert.Equal(new SaslFailure(SaslReplies.BadBase64), plain.Continue(line));
    }

    [Fact]
    public void Star_cancels()
    {
        var plain = new PlainMechanism();
        plain.Start(null);
        var step = Assert.IsType<SaslFailure>(plain.Continue("*"));
        Assert.Equal(501, step.Reply.Code);
        Assert.Equal(SmtpReplies.AuthCancelled, step.Reply);
    }

    [Fact]
    public void Over_long_response_is_500_5_5_6()
    {
        var plain = new PlainMechanism();
        plain.Start(null);
        Assert.Equal(new SaslFailure(SmtpReplies.LineTooLong), plain.Continue(new string('A', SaslMechanisms.MaxResponseLength + 4)));
    }

    [Fact]
    public void Longest_allowed_response_is_decoded()
    {
        var password = new string('p', SaslMechanisms.MaxResponseLength / 4 * 3 - 8);
        var line = B64("\0alice\0" + password);
        Assert.True(line.Length <= SaslMechanisms.MaxResponseLength);
        Assert.Equal(new SaslCredentials(string.Empty, "alice", password), new PlainMechanism().Start(line));
    }

    [Fact]
    public void Exchange_is_single_use()
    {
        var plain = new PlainMechanism();
        plain.Start(B64("\0alice\0secret"));
        Assert.Throws<InvalidOperationException>(() => plain.Continue(B64("\0alice\0secret")));
        Assert.Throws<InvalidOperationException>(() => plain.Start(null));
        Assert.Throws<InvalidOperationException>(() => new PlainMechanism().Continue(B64("\0alice\0secret")));
    }

    [Fact]
    public void Credentials_never_print_the_password()
    {
        var text = new SaslCredentials(string.Empty, "alice", "secret").ToString();
        Assert.Contains("alice", text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", text, StringComparison.Ordinal);
    }
}
