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
    private readonly Queue.Contracts.EmbeddedJournal? _embedded;
    private UniqueKillSwitch? _stream;

    /// <param name="embedded">The embedded journal to read directly; null on PostgreSQL (see <see cref="JournalFollower"/>).</param>
    public SuppressionProjectorActor(SuppressionProjection projection, Queue.Contracts.EmbeddedJournal? embedded) =>
        (_projection, _embedded) = (projection, embedded);

    public static Props Props(SuppressionProjection projection, Queue.Contracts.EmbeddedJournal? embedded) =>
        Akka.Actor.Props.Create(() => new SuppressionProjectorActor(projection, embedded));

    protected override void PreStart() => _stream = JournalFollower.Run(Context, _projection, _log, _embedded);

    protected override void PostStop() => _stream?.Shutdown();
}

/// <summary>Registry key of the suppression projector singleton.</summary>
public sealed class SuppressionProjector;
