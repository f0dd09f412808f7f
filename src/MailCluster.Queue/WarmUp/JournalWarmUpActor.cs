using Akka.Actor;
using Akka.Persistence;

namespace MailCluster.Queue.WarmUp;

/// <summary>
/// Runs the journal's and the snapshot store's statements once at start (recovery: snapshot load, highest sequence
/// number, replay; then one write and one delete), so that what Akka.Persistence.Sql and linq2db build and compile on
/// first use is ready before the first client's message needs it (issue 18, target 3: the first quarter's tail).
/// Leaves no event behind: its one event is deleted (the plugin keeps the highest sequence number's row, marked
/// deleted, so the journal holds at most one row of this id). Its payload is a string, not the queue serializer's, so
/// the journal projections and the compaction never see it.
/// </summary>
internal sealed class JournalWarmUpActor : ReceivePersistentActor
{
    public const string Id = "mc-warm-up";

    private readonly TaskCompletionSource _done;

    public JournalWarmUpActor(TaskCompletionSource done)
    {
        _done = done;
        Recover<string>(_ => { });
        Recover<RecoveryCompleted>(_ => Self.Tell(Write.Instance));
        Command<Write>(_ => Persist("warm-up", _ => DeleteMessages(LastSequenceNr)));
        Command<DeleteMessagesSuccess>(_ => Finish(null));
        Command<DeleteMessagesFailure>(f => Finish(f.Cause));
    }

    public override string PersistenceId => Id;

    public static Props Props(TaskCompletionSource done) => Akka.Actor.Props.Create(() => new JournalWarmUpActor(done));

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _done.TrySetException(reason);
        base.OnRecoveryFailure(reason, message);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _done.TrySetException(cause); // e.g. two nodes of a cluster writing the same sequence number at once
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _done.TrySetException(cause);
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    private void Finish(Exception? failure)
    {
        if (failure is null)
        {
            _done.TrySetResult();
        }
        else
        {
            _done.TrySetException(failure);
        }

        Context.Stop(Self);
    }

    private sealed class Write
    {
        public static readonly Write Instance = new();
    }
}
