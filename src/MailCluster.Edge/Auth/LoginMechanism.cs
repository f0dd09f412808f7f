using System.Diagnostics.CodeAnalysis;

namespace MailCluster.Edge.Auth;

/// <summary>
/// SASL LOGIN (draft-murchison-sasl-login-00): challenge "Username:", then "Password:", each answered with one
/// base64 line (UTF-8). The AUTH initial response, when given, is the user name and the first challenge is
/// skipped. Obsolete but still what many clients (Outlook, older devices) use. Empty or NUL-bearing user names
/// and passwords are refused with 501 5.5.2, as for PLAIN. LOGIN has no authorization identity.
/// </summary>
public sealed class LoginMechanism : ISaslMechanism
{
    /// <summary>base64("Username:").</summary>
    public const string UserNameChallenge = "VXNlcm5hbWU6";

    /// <summary>base64("Password:").</summary>
    public const string PasswordChallenge = "UGFzc3dvcmQ6";

    private enum State { New, AwaitingUserName, AwaitingPassword, Done }

    private State _state = State.New;
    private string _userName = string.Empty;

    public string Name => "LOGIN";

    public SaslStep Start(string? initialResponse)
    {
        Expect(State.New);
        if (initialResponse is null)
        {
            _state = State.AwaitingUserName;
            return new SaslChallenge(UserNameChallenge);
        }

        return TakeUserName(initialResponse, isInitial: true);
    }

    public SaslStep Continue(string clientLine) => _state switch
    {
        State.AwaitingUserName => TakeUserName(clientLine, isInitial: false),
        State.AwaitingPassword => TakePassword(clientLine),
        _ => throw new InvalidOperationException($"LOGIN exchange is {_state}; nothing to continue."),
    };

    private SaslStep TakeUserName(string line, bool isInitial)
    {
        if (!TryField(line, isInitial, out var userName, out var failure))
        {
            return failure;
        }

        _userName = userName;
        _state = State.AwaitingPassword;
        return new SaslChallenge(PasswordChallenge);
    }

    private SaslStep TakePassword(string line) =>
        TryField(line, isInitial: false, out var password, out var failure)
            ? Done(new SaslCredentials(string.Empty, _userName, password))
            : failure;

    private bool TryField(string line, bool isInitial, out string value, [NotNullWhen(false)] out SaslFailure? failure)
    {
        failure = null;
        if (!SaslResponse.TryDecode(line, isInitial, out value, out var decodeFailure))
        {
            failure = Done(decodeFailure);
            return false;
        }

        if (value.Length == 0 || value.Contains('\0', StringComparison.Ordinal))
        {
            failure = Done(new SaslFailure(SaslReplies.Malformed));
            return false;
        }

        return true;
    }

    private T Done<T>(T step)
        where T : SaslStep
    {
        _state = State.Done;
        _userName = string.Empty;
        return step;
    }

    private void Expect(State state)
    {
        if (_state != state)
        {
            throw new InvalidOperationException($"LOGIN exchange is {_state}, not {state}.");
        }
    }
}
