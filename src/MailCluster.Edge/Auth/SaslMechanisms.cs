using MailCluster.Smtp;

namespace MailCluster.Edge.Auth;

/// <summary>
/// The SASL mechanisms offered in "250-AUTH PLAIN LOGIN". Both carry the password in the clear, so the session
/// must offer and accept them only under TLS and answer 538 (<see cref="SmtpReplies.EncryptionRequired"/>)
/// otherwise (RFC 4954 §4 and §6, RFC 4616 §6).
/// </summary>
public static class SaslMechanisms
{
    /// <summary>
    /// Longest client response line accepted, in characters without CRLF. RFC 4954 §4 lets AUTH responses exceed
    /// the 512-octet command line of RFC 5321 and has servers accept 12288 octets; longer lines fail with
    /// 500 5.5.6 (<see cref="SmtpReplies.LineTooLong"/>). The connection handler must allow lines this long
    /// while an exchange is in progress.
    /// </summary>
    public const int MaxResponseLength = 12288;

    public static IReadOnlyList<string> Advertised { get; } = ["PLAIN", "LOGIN"];

    /// <summary>The OAuth2 bearer-token mechanisms, offered (after TLS, like the others) only when OAuth is configured.</summary>
    public static IReadOnlyList<string> BearerAdvertised { get; } = ["XOAUTH2", "OAUTHBEARER"];

    /// <summary>504 5.5.4 for a mechanism not in <see cref="Advertised"/> (RFC 4954 §4).</summary>
    public static SaslFailure UnknownMechanism { get; } = new(SmtpReplies.UnsupportedMechanism);

    /// <summary>A fresh exchange for <paramref name="name"/> (case-insensitive, RFC 4422 §3.1), or null when unknown.</summary>
    public static ISaslMechanism? Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToUpperInvariant() switch
        {
            "PLAIN" => new PlainMechanism(),
            "LOGIN" => new LoginMechanism(),
            _ => null,
        };
    }

    /// <summary>A fresh exchange for the bearer mechanism <paramref name="name"/> (case-insensitive), or null when unknown.</summary>
    public static ISaslMechanism? CreateBearer(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToUpperInvariant() switch
        {
            "XOAUTH2" => new XOAuth2Mechanism(),
            "OAUTHBEARER" => new OAuthBearerMechanism(),
            _ => null,
        };
    }
}

/// <summary>AUTH failures not already in <see cref="SmtpReplies"/>.</summary>
public static class SaslReplies
{
    /// <summary>501 5.5.2: a response that is not base64 (RFC 4954 §4).</summary>
    public static SmtpReply BadBase64 { get; } = new(501, "5.5.2", "Cannot Base64-decode client response");

    /// <summary>501 5.5.2: base64 that does not decode to what the mechanism expects (not UTF-8, missing or empty fields).</summary>
    public static SmtpReply Malformed { get; } = new(501, "5.5.2", "Malformed authentication response");

    /// <summary>454 4.7.0 (RFC 4954 §6): the credentials could not be checked now (the OAuth issuer is unreachable); try later.</summary>
    public static SmtpReply TemporaryFailure { get; } = new(454, "4.7.0", "Temporary authentication failure, try again later");
}
