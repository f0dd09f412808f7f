namespace MailCluster.Edge.Auth;

/// <summary>
/// A SASL mechanism whose client sends one message (PLAIN, XOAUTH2, OAUTHBEARER): as the AUTH initial response, or after
/// an empty "334 " challenge. The message is base64-decoded here (<see cref="SaslResponse.TryDecode"/>: "=" is an empty
/// initial response, "*" cancels) and handed to <see cref="Parse"/>; a second message, or one out of turn, is a
/// programming error of the session, not a client error.
/// </summary>
public abstract class SingleMessageMechanism : ISaslMechanism
{
    private enum State { New, AwaitingResponse, Done }

    private State _state = State.New;

    public abstract string Name { get; }

    public SaslStep Start(string? initialResponse)
    {
        Expect(State.New);
        if (initialResponse is null)
        {
            _state = State.AwaitingResponse;
            return new SaslChallenge(string.Empty);
        }

        return Finish(initialResponse, isInitial: true);
    }

    public SaslStep Continue(string clientLine)
    {
        Expect(State.AwaitingResponse);
        return Finish(clientLine, isInitial: false);
    }

    /// <summary>The mechanism's reading of the decoded message: the credentials or token step, or why not.</summary>
    private protected abstract SaslStep Parse(string message);

    private SaslStep Finish(string line, bool isInitial)
    {
        _state = State.Done;
        return SaslResponse.TryDecode(line, isInitial, out var message, out var failure) ? Parse(message) : failure;
    }

    private void Expect(State state)
    {
        if (_state != state)
        {
            throw new InvalidOperationException($"{Name} exchange is {_state}, not {state}.");
        }
    }
}
