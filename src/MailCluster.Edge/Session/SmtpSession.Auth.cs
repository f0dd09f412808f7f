using MailCluster.Edge.Auth;
using MailCluster.Smtp;

namespace MailCluster.Edge.Session;

/// <summary>AUTH (RFC 4954): only inside TLS, one success per session (the 503 for a second AUTH comes from
/// <see cref="SmtpStateTable"/>), failures slowed down and capped.</summary>
public sealed partial class SmtpSession
{
    private ISaslMechanism? _sasl;
    private int _authFailures;

    private async ValueTask<SessionReply> StartAuthAsync(AuthCommand auth)
    {
        if (!IsTls)
        {
            return new SessionReply(SmtpReplies.EncryptionRequired);
        }

        if (_services.Users.Count == 0 || SaslMechanisms.Create(auth.Mechanism) is not { } mechanism)
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

        var mechanism = _sasl?.Name;
        _sasl = null;
        var credentials = (SaslCredentials)step;
        var user = await _services.Users.AuthenticateAsync(credentials.UserName, credentials.Password).ConfigureAwait(false);
        if (user is not null)
        {
            _user = user;
            Metrics.AuthSucceeded.Inc();
            LogAuth(true, user.Name, mechanism);
            return new SessionReply(SmtpReplies.AuthSucceeded);
        }

        Metrics.AuthFailed.Inc();
        LogAuth(false, credentials.UserName, mechanism);

        // RFC 4954 §4: 535 5.7.8. Slow down guessing, then hang up.
        await Task.Delay(_services.Smtp.AuthFailureDelayMilliseconds).ConfigureAwait(false);
        return ++_authFailures >= _services.Smtp.MaxAuthFailures
            ? new SessionReply(new SmtpReply(421, "4.7.0", "Too many failed authentication attempts, closing connection"), SessionAction.Close)
            : new SessionReply(SmtpReplies.AuthFailed);
    }
}
