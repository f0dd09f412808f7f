using MailCluster.Edge.Auth;
using MailCluster.Smtp;

namespace MailCluster.Edge.Session;

/// <summary>AUTH (RFC 4954): only inside TLS, one success per session (the 503 for a second AUTH comes from
/// <see cref="SmtpStateTable"/>), failures slowed down and capped. PLAIN and LOGIN check a configured password;
/// XOAUTH2 and OAUTHBEARER (when OAuth is configured) an OAuth2 bearer token, whose rejection is told in an error
/// challenge first (RFC 7628 §3.2.2) and answered 535 after the client's reply to it.</summary>
public sealed partial class SmtpSession
{
    private ISaslMechanism? _sasl;
    private int _authFailures;

    /// <summary>A bearer token was rejected and its error challenge sent: the client's next line only acknowledges it.</summary>
    private bool _awaitingBearerAck;

    private async ValueTask<SessionReply> StartAuthAsync(AuthCommand auth)
    {
        if (!IsTls)
        {
            return new SessionReply(SmtpReplies.EncryptionRequired);
        }

        var mechanism = _services.Users.OffersPasswordAuth ? SaslMechanisms.Create(auth.Mechanism) : null;
        mechanism ??= _services.OAuth is not null ? SaslMechanisms.CreateBearer(auth.Mechanism) : null;
        if (mechanism is null)
        {
            return new SessionReply(SmtpReplies.UnsupportedMechanism);
        }

        _sasl = mechanism;
        return await OnSaslStepAsync(mechanism.Start(auth.InitialResponse)).ConfigureAwait(false);
    }

    private async ValueTask<SessionReply> ContinueAuthAsync(string? line)
    {
        if (_sasl is null)
        {
            throw new InvalidOperationException("A SASL line is read only after a 334 challenge (SessionAction.ReadAuthLine).");
        }

        if (_awaitingBearerAck)
        {
            // RFC 7628 §3.2.3: whatever the client answers (%x01, an empty line for XOAUTH2, "*"), the exchange failed.
            _awaitingBearerAck = false;
            _sasl = null;
            return await AuthFailedAsync().ConfigureAwait(false);
        }

        if (line is null)
        {
            _sasl = null;
            return new SessionReply(new SmtpReply(500, "5.5.6", "Authentication Exchange line is too long"));
        }

        return await OnSaslStepAsync(_sasl.Continue(line)).ConfigureAwait(false);
    }

    private async ValueTask<SessionReply> OnSaslStepAsync(SaslStep step)
    {
        switch (step)
        {
            case SaslChallenge challenge:
                return new SessionReply(SmtpReplies.AuthChallenge(challenge.Base64Challenge), SessionAction.ReadAuthLine);
            case SaslFailure failure:
                LogAuth(false, null, _sasl?.Name);
                _sasl = null;
                return new SessionReply(failure.Reply);
        }

        if (step is SaslBearerToken bearer)
        {
            return await OnBearerTokenAsync(bearer).ConfigureAwait(false);
        }

        var mechanism = _sasl?.Name;
        _sasl = null;
        var credentials = (SaslCredentials)step;
        var user = await _services.Users.AuthenticateAsync(credentials.UserName, credentials.Password).ConfigureAwait(false);
        if (user is null)
        {
            LogAuth(false, credentials.UserName, mechanism);
            return await AuthFailedAsync().ConfigureAwait(false);
        }

        return Authenticated(user, mechanism);
    }

    private async ValueTask<SessionReply> OnBearerTokenAsync(SaslBearerToken bearer)
    {
        var verdict = await _services.OAuth!.ValidateAsync(bearer.UserName, bearer.Token, CancellationToken.None).ConfigureAwait(false);
        switch (verdict.Outcome)
        {
            case BearerOutcome.Accepted:
                var mechanism = _sasl?.Name;
                _sasl = null;
                return Authenticated(verdict.User!, mechanism);
            case BearerOutcome.Unavailable:
                _sasl = null;
                return new SessionReply(SaslReplies.TemporaryFailure);
            default:
                LogAuth(false, bearer.UserName, _sasl?.Name);
                _awaitingBearerAck = true;
                var challenge = BearerChallenge.For(bearer.Dialect, verdict.Status, _services.Smtp.OAuth.Scope);
                return new SessionReply(SmtpReplies.AuthChallenge(challenge), SessionAction.ReadAuthLine);
        }
    }

    private SessionReply Authenticated(SmtpUser user, string? mechanism)
    {
        _user = user;
        Metrics.AuthSucceeded.Inc();
        LogAuth(true, user.Name, mechanism);
        return new SessionReply(SmtpReplies.AuthSucceeded);
    }

    private async ValueTask<SessionReply> AuthFailedAsync()
    {
        Metrics.AuthFailed.Inc();

        // RFC 4954 §4: 535 5.7.8. Slow down guessing, then hang up.
        await Task.Delay(_services.Smtp.AuthFailureDelayMilliseconds).ConfigureAwait(false);
        return ++_authFailures >= _services.Smtp.MaxAuthFailures
            ? new SessionReply(new SmtpReply(421, "4.7.0", "Too many failed authentication attempts, closing connection"), SessionAction.Close)
            : new SessionReply(SmtpReplies.AuthFailed);
    }
}
