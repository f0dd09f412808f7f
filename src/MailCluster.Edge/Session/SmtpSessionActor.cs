using Akka.Actor;

namespace MailCluster.Edge.Session;

/// <summary>
/// The actor of one SMTP connection (DESIGN: one session actor per connection). It takes the hand-off that leaves
/// the connection: the finished message, which it makes durable through the acceptor before answering (invariant 1).
/// The command-by-command conversation runs inline in the connection (<see cref="SmtpSession"/>): a round trip
/// through a mailbox per SMTP command cost two thread switches per line and was the largest share of the edge's
/// CPU. ReceiveAsync keeps the actor on one message at a time; every <see cref="SessionHandOff"/> is completed exactly
/// once, with the reply or with the exception that prevented one.
/// </summary>
public sealed class SmtpSessionActor : ReceiveActor
{
    public SmtpSessionActor(SmtpSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        ReceiveAsync<SessionHandOff>(async handOff =>
        {
            try
            {
                var reply = await session.OnDataAsync(handOff.Data).ConfigureAwait(false);
                if (reply.Reply.Code == 250)
                {
                    session.Metrics.MessagesAccepted.Inc();
                }

                handOff.Reply.TrySetResult(reply);
            }
            catch (Exception ex)
            {
                handOff.Reply.TrySetException(ex);
            }
        });
    }

    /// <summary>Props that construct the actor directly: one is made per connection, and <c>Props.Create(() => ...)</c>
    /// builds an expression tree and creates the actor by reflection each time.</summary>
    public static Props Props(SmtpSession session) => Akka.Actor.Props.CreateBy(new Producer(session));

    private sealed class Producer(SmtpSession session) : IIndirectActorProducer
    {
        public Type ActorType => typeof(SmtpSessionActor);

        public ActorBase Produce() => new SmtpSessionActor(session);

        public void Release(ActorBase actor)
        {
        }
    }
}
