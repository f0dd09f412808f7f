using System.Diagnostics.CodeAnalysis;
using MailCluster.Smtp;

namespace MailCluster.Edge.Auth;

/// <summary>What the session does next in an AUTH exchange (RFC 4954 §4).</summary>
public abstract record SaslStep;

/// <summary>Send <c>334 &lt;challenge&gt;</c> (<see cref="SmtpReplies.AuthChallenge"/>) and pass the client's next
/// line to <see cref="ISaslMechanism.Continue"/>. The challenge may be empty ("334 ").</summary>
public sealed record SaslChallenge(string Base64Challenge) : SaslStep;

/// <summary>
/// The exchange is complete: verify these credentials, then answer 235 (<see cref="SmtpReplies.AuthSucceeded"/>)
/// or 535 (<see cref="SmtpReplies.AuthFailed"/>). <see cref="AuthorizationIdentity"/> is empty or, case aside,
/// equal to <see cref="UserName"/>; the mechanisms refuse anything else.
/// </summary>
public sealed record SaslCredentials(string AuthorizationIdentity, string UserName, string Password) : SaslStep
{
    /// <summary>Never prints the password, so logging a step is safe.</summary>
    public override string ToString() =>
        $"{nameof(SaslCredentials)} {{ {nameof(AuthorizationIdentity)} = {AuthorizationIdentity}, {nameof(UserName)} = {UserName}, {nameof(Password)} = *** }}";
}

/// <summary>Which bearer mechanism carried a token; it decides the shape of the error challenge.</summary>
public enum BearerDialect
{
    /// <summary>Google's and Microsoft's XOAUTH2.</summary>
    XOAuth2,

    /// <summary>RFC 7628 OAUTHBEARER.</summary>
    OAuthBearer,
}

/// <summary>
/// The exchange has carried an OAuth2 bearer token (XOAUTH2, OAUTHBEARER): validate it (asynchronously: the issuer's
/// keys may have to be fetched), then answer 235, or the error challenge of RFC 7628 §3.2.2 followed by 535 5.7.8, or
/// 454 4.7.0 when the issuer cannot be reached. <see cref="UserName"/> is null when the client named no user (an
/// OAUTHBEARER gs2 header without <c>a=</c>): the token's user claim is the user then.
/// </summary>
public sealed record SaslBearerToken(BearerDialect Dialect, string? UserName, string Token) : SaslStep
{
    /// <summary>Never prints the token, so logging a step is safe.</summary>
    public override string ToString() =>
        $"{nameof(SaslBearerToken)} {{ {nameof(Dialect)} = {Dialect}, {nameof(UserName)} = {UserName}, {nameof(Token)} = *** }}";
}

/// <summary>The exchange has failed: send <see cref="Reply"/>; the session stays where it was before AUTH.</summary>
public sealed record SaslFailure(SmtpReply Reply) : SaslStep;

/// <summary>
/// One AUTH exchange for one mechanism: a pure state machine, no I/O, one instance per AUTH command.
/// <see cref="Start"/> is called once; <see cref="Continue"/> once per client line after each
/// <see cref="SaslChallenge"/>. After <see cref="SaslCredentials"/> or <see cref="SaslFailure"/> the exchange is
/// over and further calls throw <see cref="InvalidOperationException"/>.
/// </summary>
public interface ISaslMechanism
{
    /// <summary>The IANA-registered mechanism name, upper case.</summary>
    string Name { get; }

    /// <param name="initialResponse">The optional initial-response argument of the AUTH command (RFC 4954 §4):
    /// null when absent, "=" for a zero-length response, base64 otherwise.</param>
    SaslStep Start(string? initialResponse);

    /// <param name="clientLine">The client's line without CRLF: base64, or "*" to cancel.</param>
    [SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Justification = "C#-only API; the name is the agreed session contract.")]
    SaslStep Continue(string clientLine);
}
