using Akka.Actor;

namespace MailCluster.Events.Webhooks;

/// <summary>The cluster singleton that runs the <see cref="WebhookDispatcher"/>: started with the actor, cancelled when
/// the singleton stops (hand-over, node leaving); a node that dies just stops, and the next oldest starts it.</summary>
#pragma warning disable CA1001 // _stop is cancelled in PostStop, not disposed: the dispatcher may still observe its token while it winds down.
public sealed class WebhookDispatcherActor : UntypedActor
{
    private readonly Func<CancellationToken, Task> _run;
    private readonly CancellationTokenSource _stop = new();

    public WebhookDispatcherActor(Func<CancellationToken, Task> run) => _run = run;

    public static Props Props(Func<CancellationToken, Task> run) => Akka.Actor.Props.Create(() => new WebhookDispatcherActor(run));

    protected override void PreStart() => _ = Task.Run(() => _run(_stop.Token));

    protected override void PostStop() => _stop.Cancel();

    protected override void OnReceive(object message) => Unhandled(message);
}
#pragma warning restore CA1001

/// <summary>Registry key of the webhook singleton.</summary>
public sealed class WebhookDeliverer;
