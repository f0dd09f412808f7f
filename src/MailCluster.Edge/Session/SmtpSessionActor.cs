using Akka.Actor;

namespace MailCluster.Edge.Session;

/// <summary>
/// The actor of one SMTP connection (DESIGN: one session actor per connection). It takes the hand-off that leaves
/// the connection: the finished message, which it makes durable through the acceptor before answering (invariant 1).
/// The command-by-command conversation runs inline in the connection (<see cref="SmtpSession"/>): a round trip
/// through a mailbox per SMTP command cost two thread switches per line and was the largest share of the edge's
/// CPU. ReceiveAsync keeps the actor on one message at a time; every <see cref="SessionData"/> gets exactly one
/// <see cref="SessionReply"/>.
/// </summary>
public sealed class SmtpSessionActor : ReceiveActor
{
    public SmtpSessionActor(SmtpSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        ReceiveAsync<SessionData>(async data =>
        {
            var replyTo = Sender;
            replyTo.Tell(await session.OnDataAsync(data).ConfigureAwait(false));
        });
    }

    public static Props Props(SmtpSession session) => Akka.Actor.Props.Create(() => new SmtpSessionActor(session));
}
