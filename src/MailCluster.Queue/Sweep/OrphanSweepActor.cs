using Akka.Actor;

namespace MailCluster.Queue.Sweep;

/// <summary>
/// Runs <see cref="OrphanSweep"/> on a timer: first <see cref="OrphanSweepOptions.FirstRunSeconds"/> after it starts,
/// then <see cref="OrphanSweepOptions.IntervalSeconds"/> after each run ends (runs never overlap here). The node hosts
/// it as a cluster singleton on the delivery role, so one node sweeps at a time; a run cut short by a hand-over or a
/// crash is simply started over by the next owner (every step of a run is idempotent).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source is cancelled at stop and left to the GC: a run still winding down may yet register on its token.")]
public sealed class OrphanSweepActor : ReceiveActor, IWithTimers
{
    private const string RunTimer = "run";

    private readonly CancellationTokenSource _stopping = new();
    private bool _running;

    public OrphanSweepActor(Func<CancellationToken, Task<SweepReport>> run, OrphanSweepOptions options)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(options);
        FirstRun = TimeSpan.FromSeconds(options.FirstRunSeconds);
        Interval = TimeSpan.FromSeconds(options.IntervalSeconds);
        Receive<Run>(_ =>
        {
            if (_running)
            {
                return;
            }

            _running = true;
            run(_stopping.Token).PipeTo(Self, success: _ => RunEnded.Instance, failure: _ => RunEnded.Instance);
        });
        Receive<RunEnded>(_ =>
        {
            // The run logged and counted its own outcome.
            _running = false;
            Timers.StartSingleTimer(RunTimer, Run.Instance, Interval);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private TimeSpan FirstRun { get; }

    private TimeSpan Interval { get; }

    public static Props Props(OrphanSweep sweep, OrphanSweepOptions options)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        Func<CancellationToken, Task<SweepReport>> run = sweep.RunAsync;
        return Akka.Actor.Props.Create(() => new OrphanSweepActor(run, options));
    }

    protected override void PreStart() => Timers.StartSingleTimer(RunTimer, Run.Instance, FirstRun);

    protected override void PostStop() => _stopping.Cancel();

    /// <summary>Starts a run now (also sent by the timer).</summary>
    public sealed class Run
    {
        public static readonly Run Instance = new();

        private Run()
        {
        }
    }

    private sealed class RunEnded
    {
        public static readonly RunEnded Instance = new();
    }
}
