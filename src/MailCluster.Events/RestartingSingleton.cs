using Akka.Actor;
using Akka.Pattern;

namespace MailCluster.Events;

/// <summary>
/// Props for a cluster singleton that must outlive its failures. The singleton manager runs the actor as is, and
/// Akka's default strategy answers an exception thrown while the actor starts (<see cref="ActorInitializationException"/>)
/// with Stop: the singleton is then gone on that node until it restarts. That happened to the event projector when
/// the SQL read journal's start-up ask timed out on a loaded node (events and webhooks silently stopped). Here the
/// actor runs under a backoff supervisor that restarts it after any exception, waiting 1 s doubling to 30 s (±20 %),
/// without limit; messages for the singleton are forwarded to the current incarnation.
/// </summary>
public static class RestartingSingleton
{
    public static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    public static Props Props(Props child, string childName) =>
        BackoffSupervisor.Props(
            Backoff.OnFailure(child, childName, MinBackoff, MaxBackoff, 0.2, maxNrOfRetries: -1)
                .WithSupervisorStrategy(new OneForOneStrategy(_ => Directive.Restart)));
}
