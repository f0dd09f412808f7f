using Akka.Actor;

namespace MailCluster.Edge.Session;

/// <summary>
/// The session actor of one SMTP connection (DESIGN: an edge node spawns a session actor per connection). The
/// connection's bytes and the command-by-command conversation stay out of it (<see cref="SmtpServerConnection"/> runs
/// <see cref="SmtpSession"/> inline: a mailbox round trip per command cost two thread switches per line and was the
/// largest share of the edge's CPU). It owns two things:
/// <list type="number">
/// <item><b>The acceptance hand-off</b>, the one step of a session that waits on the cluster: the finished message
/// (<see cref="SessionHandOff"/>) is made durable through the acceptor (spool write, Enqueued in every recipient
/// domain's queue) before the session answers 250, else 451 (invariant 1). ReceiveAsync keeps it to one hand-off at a
/// time; every hand-off is completed exactly once, with the reply or with the exception that prevented one; accepted
/// messages are counted here.</item>
/// <item><b>The session's lifetime</b> on the node: <see cref="Spawn"/> starts it when the connection is admitted,
/// <see cref="End"/> stops it when the connection ends, after any hand-off in flight (the stop is queued behind it, so an
/// acceptance the client no longer waits for still finishes and is counted). The session is open, in
/// <c>mailcluster_smtp_sessions_open</c>, from the actor's start to its stop.</item>
/// </list>
/// </summary>
public sealed class SmtpSessionActor : UntypedActor
{
    private readonly SmtpSession _session;

    public SmtpSessionActor(SmtpSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
    }

    /// <summary>An <see cref="UntypedActor"/> rather than a ReceiveActor: one is created per connection, and a
    /// ReceiveActor builds its handler table (match builder, compiled-handler lookup) in every instance. RunTask is what
    /// ReceiveAsync does: the mailbox is suspended until the hand-off completes, so hand-offs and the stop queue behind it.</summary>
    protected override void OnReceive(object message)
    {
        if (message is SessionHandOff handOff)
        {
            RunTask(() => HandOffAsync(handOff));
        }
        else
        {
            Unhandled(message);
        }
    }

    private async Task HandOffAsync(SessionHandOff handOff)
    {
        try
        {
            var reply = await _session.OnDataAsync(handOff.Data).ConfigureAwait(false);
            if (reply.Reply.Code == 250)
            {
                _session.Metrics.MessagesAccepted.Inc();
            }

            handOff.Reply.TrySetResult(reply);
        }
        catch (Exception ex)
        {
            handOff.Reply.TrySetException(ex);
        }
    }

    /// <summary>Starts the session actor of an admitted connection, named after it.</summary>
    public static IActorRef Spawn(IActorRefFactory system, SmtpSession session, string connectionId)
    {
        ArgumentNullException.ThrowIfNull(system);
        return system.ActorOf(Props(session), "smtp-" + connectionId);
    }

    /// <summary>Ends the session once any hand-off in flight is answered.</summary>
    public static void End(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Tell(PoisonPill.Instance);
    }

    /// <summary>Props that construct the actor directly: one is made per connection, and <c>Props.Create(() => ...)</c>
    /// builds an expression tree and creates the actor by reflection each time.</summary>
    public static Props Props(SmtpSession session) => Akka.Actor.Props.CreateBy(new Producer(session));

    protected override void PreStart() => _session.Metrics.SessionsOpen.Inc();

    protected override void PostStop() => _session.Metrics.SessionsOpen.Dec();

    private sealed class Producer(SmtpSession session) : IIndirectActorProducer
    {
        public Type ActorType => typeof(SmtpSessionActor);

        public ActorBase Produce() => new SmtpSessionActor(session);

        public void Release(ActorBase actor)
        {
        }
    }
}
