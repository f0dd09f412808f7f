using Akka.Actor;
using Akka.Event;
using Akka.Streams;

namespace MailCluster.Events;

/// <summary>Runs the <see cref="SuppressionProjection"/> over the journal (<see cref="JournalFollower"/>) as a cluster
/// singleton: one writer at a time, and a hand-over (or a restart after a crash) resumes from the stored offset.</summary>
public sealed class SuppressionProjectorActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SuppressionProjection _projection;
    private readonly Queue.Contracts.DirectJournal? _direct;
    private UniqueKillSwitch? _stream;

    /// <param name="direct">The journal table to read directly; null: through Akka.Persistence.Query (see <see cref="JournalFollower"/>).</param>
    public SuppressionProjectorActor(SuppressionProjection projection, Queue.Contracts.DirectJournal? direct) =>
        (_projection, _direct) = (projection, direct);

    public static Props Props(SuppressionProjection projection, Queue.Contracts.DirectJournal? direct) =>
        Akka.Actor.Props.Create(() => new SuppressionProjectorActor(projection, direct));

    protected override void PreStart() => _stream = JournalFollower.Run(Context, _projection, _log, _direct);

    protected override void PostStop() => _stream?.Shutdown();
}

/// <summary>Registry key of the suppression projector singleton.</summary>
public sealed class SuppressionProjector;
