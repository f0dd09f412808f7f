using System.Text;
using MailCluster.Edge.Auth;
using MailCluster.Smtp;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

/// <summary>The client messages of XOAUTH2 and OAUTHBEARER (RFC 7628 §3.1, RFC 5801 §4): what is read from them, and
/// a clear 501 5.5.2 (or 535 for channel binding) for anything else, never an exception.</summary>
public class BearerMechanismsTests
{
    private const string Token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln-_~+/=";

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private static SaslStep XOAuth2(string message) => new XOAuth2Mechanism().Start(B64(message));

    private static SaslStep OAuthBearer(string message) => new OAuthBearerMechanism().Start(B64(message));

    [Fact]
    public void Xoauth2_reads_user_and_token() =>
        Assert.Equal(new SaslBearerToken(BearerDialect.XOAuth2, "alice@example.org", Token), XOAuth2($"user=alice@example.org\u0001auth=Bearer {Token}\u0001\u0001"));

    [Fact]
    public void Xoauth2_after_an_empty_challenge()
    {
        var mechanism = new XOAuth2Mechanism();
        Assert.Equal(new SaslChallenge(string.Empty), mechanism.Start(null));
        Assert.Equal(new SaslBearerToken(BearerDialect.XOAuth2, "a@b.test", Token), mechanism.Continue(B64($"user=a@b.test\u0001auth=Bearer {Token}\u0001\u0001")));
        Assert.Throws<InvalidOperationException>(() => mechanism.Continue("AQ=="));
    }

    [Theory]
    [InlineData("auth=Bearer T\u0001user=a@b.test\u0001\u0001")]   // order is free
    [InlineData("user=a@b.test\u0001auth=bearer T\u0001\u0001")]   // the scheme is case-insensitive (RFC 7235 §2.1)
    [InlineData("user=a@b.test\u0001auth=Bearer   T\u0001\u0001")] // 1*SP
    [InlineData("user=a@b.test\u0001host=mx.test\u0001auth=Bearer T\u0001\u0001")] // unknown keys are ignored
    public void Xoauth2_tolerates_what_the_grammar_allows(string message) =>
        Assert.Equal(new SaslBearerToken(BearerDialect.XOAuth2, "a@b.test", "T"), XOAuth2(message));

    [Theory]
    [InlineData("user=a@b.test\u0001auth=Bearer T")]               // no terminator
    [InlineData("user=a@b.test\u0001auth=Bearer T\u0001")]           // one %x01 short
    [InlineData("user=a@b.test\u0001auth=Bearer T\u0001\u0001\u0001")]   // an empty pair
    [InlineData("user=a@b.test\u0001\u0001")]                         // no auth
    [InlineData("auth=Bearer T\u0001\u0001")]                         // no user
    [InlineData("user=\u0001auth=Bearer T\u0001\u0001")]               // empty user
    [InlineData("user=a@b.test\u0001auth=Basic dXNlcjpwdw==\u0001\u0001")] // not a bearer token
    [InlineData("user=a@b.test\u0001auth=Bearer \u0001\u0001")]        // empty token
    [InlineData("user=a@b.test\u0001auth=Bearer to ken\u0001\u0001")]  // not a b64token
    [InlineData("user=a@b.test\u0001auth=Bearer T\u0001auth=Bearer U\u0001\u0001")] // repeated key
    [InlineData("user=a@b.test\u0001au th=Bearer T\u0001\u0001")]      // key not ALPHA
    [InlineData("user=a\u0002b\u0001auth=Bearer T\u0001\u0001")]         // control character in a value
    [InlineData("")]
    [InlineData("\u0001\u0001")]
    public void Xoauth2_malformed_is_501_5_5_2(string message) =>
        Assert.Equal(new SaslFailure(SaslReplies.Malformed), XOAuth2(message));

    [Fact]
    public void Oauthbearer_reads_gs2_authzid_and_token_as_mailkit_sends_them() =>
        Assert.Equal(
            new SaslBearerToken(BearerDialect.OAuthBearer, "alice@example.org", Token),
            OAuthBearer($"n,a=alice@example.org,\u0001host=mx.test\u0001port=587\u0001auth=Bearer {Token}\u0001\u0001"));

    [Theory]
    [InlineData("n,,\u0001auth=Bearer T\u0001\u0001", null)]          // no authzid: the token's claim names the user
    [InlineData("y,,\u0001auth=Bearer T\u0001\u0001", null)]          // client could bind, thinks we cannot
    [InlineData("n,a=b=2Cc=3Dd@e.test,\u0001auth=Bearer T\u0001\u0001", "b,c=d@e.test")] // saslname escapes
    public void Oauthbearer_gs2_header(string message, string? user) =>
        Assert.Equal(new SaslBearerToken(BearerDialect.OAuthBearer, user, "T"), OAuthBearer(message));

    [Fact]
    public void Oauthbearer_demanding_channel_binding_fails_with_535() =>
        Assert.Equal(new SaslFailure(SmtpReplies.AuthFailed), OAuthBearer("p=tls-unique,,\u0001auth=Bearer T\u0001\u0001"));

    [Theory]
    [InlineData("n,a=a@b.test\u0001auth=Bearer T\u0001\u0001")]       // gs2 header not ended by ","
    [InlineData("x,,\u0001auth=Bearer T\u0001\u0001")]                // unknown cbind flag
    [InlineData("n,u=a@b.test,\u0001auth=Bearer T\u0001\u0001")]      // not "a="
    [InlineData("n,a=a=2Xb,\u0001auth=Bearer T\u0001\u0001")]         // bad saslname escape
    [InlineData("n,a=a=2,\u0001auth=Bearer T\u0001\u0001")]           // truncated escape
    [InlineData("n,,\u0001host=mx.test\u0001\u0001")]                 // no auth
    [InlineData("n,,\u0001auth=Bearer T\u0001")]                    // no terminator
    [InlineData("n,,auth=Bearer T\u0001\u0001")]                    // header and pairs not separated
    [InlineData("n,,,\u0001auth=Bearer T\u0001\u0001")]               // extra field in the header
    [InlineData("\u0001\u0001")]
    public void Oauthbearer_malformed_is_501_5_5_2(string message) =>
        Assert.Equal(new SaslFailure(SaslReplies.Malformed), OAuthBearer(message));

    [Theory]
    [InlineData("not base64!", 501)]
    [InlineData("*", 501)]
    [InlineData("=", 501)] // a zero-length initial response holds no token
    public void Undecodable_responses_fail_cleanly(string line, int code)
    {
        Assert.Equal(code, Assert.IsType<SaslFailure>(new XOAuth2Mechanism().Start(line)).Reply.Code);
        Assert.Equal(code, Assert.IsType<SaslFailure>(new OAuthBearerMechanism().Start(line)).Reply.Code);
    }

    [Fact]
    public void Invalid_utf8_is_malformed() =>
        Assert.Equal(new SaslFailure(SaslReplies.Malformed), new XOAuth2Mechanism().Start(Convert.ToBase64String([0x75, 0x73, 0xC3, 0x28, 1, 1])));

    [Fact]
    public void Random_messages_never_throw()
    {
        var random = new Random(7628);
        var alphabet = "n,a=y@p\u0001\u0002 auth=Bearer T=2C=3D\r\n\t\u0000é";
        for (var i = 0; i < 3000; i++)
        {
            var text = new string([.. Enumerable.Range(0, random.Next(60)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            foreach (var name in SaslMechanisms.BearerAdvertised)
            {
                var step = SaslMechanisms.CreateBearer(name)!.Start(B64(text));
                Assert.True(step is SaslBearerToken or SaslFailure, step.ToString());
            }
        }
    }

    [Theory]
    [InlineData("XOAUTH2", typeof(XOAuth2Mechanism))]
    [InlineData("oauthbearer", typeof(OAuthBearerMechanism))]
    public void Bearer_mechanisms_are_created_by_name(string name, Type expected)
    {
        Assert.IsType(expected, SaslMechanisms.CreateBearer(name));
        Assert.Null(SaslMechanisms.Create(name)); // not among the password mechanisms
    }

    [Fact]
    public void Token_is_never_printed() =>
        Assert.DoesNotContain(Token, new SaslBearerToken(BearerDialect.XOAuth2, "a@b.test", Token).ToString(), StringComparison.Ordinal);

    [Theory]
    [InlineData(BearerDialect.OAuthBearer, "invalid_token", "smtp.send", """{"status":"invalid_token","schemes":"bearer","scope":"smtp.send"}""")]
    [InlineData(BearerDialect.OAuthBearer, "insufficient_scope", null, """{"status":"insufficient_scope","schemes":"bearer"}""")]
    [InlineData(BearerDialect.XOAuth2, "invalid_token", "https://mail.test/", """{"status":"401","schemes":"bearer","scope":"https://mail.test/"}""")]
    [InlineData(BearerDialect.XOAuth2, "insufficient_scope", null, """{"status":"403","schemes":"bearer"}""")]
    public void Error_challenge_is_base64_json(BearerDialect dialect, string status, string? scope, string json) =>
        Assert.Equal(json, BearerChallenge.Decode(BearerChallenge.For(dialect, status, scope)));
}
