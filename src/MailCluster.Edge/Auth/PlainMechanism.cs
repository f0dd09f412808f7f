using MailCluster.Smtp;

namespace MailCluster.Edge.Auth;

/// <summary>
/// SASL PLAIN (RFC 4616): one message <c>[authzid] NUL authcid NUL passwd</c>, UTF-8, either as the AUTH
/// initial response or after an empty "334 " challenge.
/// <para>authcid and passwd must be non-empty (RFC 4616 §2 grammar: 1*SAFE); otherwise 501 5.5.2.
/// A non-empty authzid must name the same user as authcid (compared case-insensitively, like user names):
/// this server has no proxy authorization, and RFC 4616 §2 has the server fail the exchange when the
/// authcid may not act as the authzid. The message is well formed, so it is refused as an authentication
/// failure, 535 5.7.8 (RFC 4954 §6), not as a syntax error (501).</para>
/// </summary>
public sealed class PlainMechanism : SingleMessageMechanism
{
    public override string Name => "PLAIN";

    private protected override SaslStep Parse(string message)
    {
        var fields = message.Split('\0');
        if (fields is not [var authzid, var authcid, var password] || authcid.Length == 0 || password.Length == 0)
        {
            return new SaslFailure(SaslReplies.Malformed);
        }

        if (authzid.Length > 0 && !string.Equals(authzid, authcid, StringComparison.OrdinalIgnoreCase))
        {
            return new SaslFailure(SmtpReplies.AuthFailed);
        }

        return new SaslCredentials(authzid, authcid, password);
    }
}
