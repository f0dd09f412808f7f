using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;

namespace MailCluster.Queue;

/// <summary>
/// The sharded entity of a domain queue: a small supervisor around the persistent <see cref="DomainQueueActor"/>.
/// A persistent actor stops itself when recovery or a journal write fails (the database is down). Sharding would
/// restart a remembered entity after a fixed <c>entity-restart-backoff</c>, so every queue with pending mail hit the
/// dead database every 2 s for as long as the outage lasted; here the restart waits with <see cref="RestartBackoff"/>
/// (growing, capped, reset after a healthy run). While the queue is down, commands for it wait here (bounded, like
/// the shard's own buffer) and are delivered, with their senders, to the next incarnation. A command that arrives
/// once at least <see cref="RestartBackoff.Initial"/> has passed since the failure restarts the queue at once: a
/// queue that sessions are waiting for comes back within seconds of the database (before their enqueue timeout),
/// while idle queues back off to the cap.
/// <para>Towards the shard it behaves as the queue itself: the queue's Passivate is passed on as this entity's, and
/// the shard's stop message (<see cref="StopMessage"/>, used for passivation and for hand-off) is passed to the queue,
/// which persists and acknowledges what it holds before it stops; this entity stops with it.</para>
/// </summary>
public sealed class DomainQueueEntity : UntypedActor, IWithTimers
{
    /// <summary>Commands kept while the queue is down; more are dropped (their senders time out and retry, 451).</summary>
    public const int MaxBuffered = 10_000;

    private const string RestartTimer = "restart";

    private readonly string _domain;
    private readonly QueueServices _services;
    private readonly RestartBackoff _backoff;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<(object Message, IActorRef Sender)> _buffer = new();
    private IActorRef? _queue;
    private DateTimeOffset _startedAt;
    private DateTimeOffset _failedAt;
    private int _failures;
    private int _incarnation;
    private bool _stopping;

    public DomainQueueEntity(string domain, QueueServices services, RestartBackoff backoff)
    {
        _domain = domain;
        _services = services;
        _backoff = backoff;
    }

    /// <summary>The stop message the shard must use for hand-off (<c>handOffStopMessage</c>), as it does for passivation.</summary>
    public static object StopMessage => DomainQueueActor.StopQueue.Instance;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string domain, QueueServices services) => Props(domain, services, RestartBackoff.Default);

    public static Props Props(string domain, QueueServices services, RestartBackoff backoff) =>
        Akka.Actor.Props.Create(() => new DomainQueueEntity(domain, services, backoff));

    protected override void PreStart() => StartQueue();

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Passivate passivate when Sender.Equals(_queue):
                Context.Parent.Tell(passivate, Self);
                break;
            case DomainQueueActor.StopQueue:
                _stopping = true;
                if (_queue is null)
                {
                    Context.Stop(Self);
                }
                else
                {
                    _queue.Forward(message);
                }

                break;
            case Terminated t when t.ActorRef.Equals(_queue):
                OnQueueStopped();
                break;
            case RestartQueue:
                StartQueue();
                break;
            default:
                if (_queue is not null)
                {
                    _queue.Forward(message);
                }
                else if (_buffer.Count < MaxBuffered)
                {
                    _buffer.Enqueue((message, Sender));
                    if (_services.Clock.GetUtcNow() - _failedAt >= _backoff.Initial)
                    {
                        Timers.Cancel(RestartTimer);
                        StartQueue();
                    }
                }
                else
                {
                    Context.System.DeadLetters.Tell(new DeadLetter(message, Sender, Self));
                }

                break;
        }
    }

    private void StartQueue()
    {
        _queue = Context.Watch(Context.ActorOf(DomainQueueActor.Props(_domain, _services), $"queue-{++_incarnation}"));
        _startedAt = _services.Clock.GetUtcNow();
        while (_buffer.TryDequeue(out var held))
        {
            _queue.Tell(held.Message, held.Sender);
        }
    }

    private void OnQueueStopped()
    {
        _queue = null;
        if (_stopping)
        {
            Context.Stop(Self);
            return;
        }

        // Not asked to stop: recovery or a journal write failed.
        _failedAt = _services.Clock.GetUtcNow();
        _failures = _backoff.FailuresAfter(_failures, _failedAt - _startedAt);
        var delay = _backoff.DelayAfter(_failures);
        _log.Warning("Domain queue {0} stopped on a failure ({1} in a row); restarting in {2:0.#}s", _domain, _failures, delay.TotalSeconds);
        Timers.StartSingleTimer(RestartTimer, RestartQueue.Instance, delay);
    }

    private sealed class RestartQueue
    {
        public static readonly RestartQueue Instance = new();
    }
}
