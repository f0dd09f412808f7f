using Akka.Actor;
using Akka.Event;
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
        if (IsConcurrentWrite(cause))
        {
            // Nodes of a cluster that start together warm the same id at the same moment, and the journal's unique key
            // refuses all but one write: expected, and the refused write ran the statements all the same, which is what
            // the warm-up is for. Not an error (the base class would log one, with a stack trace, on each such node).
            Context.GetLogger().Info("Journal warm-up: another node wrote {0} #{1} at the same moment; done", PersistenceId, sequenceNr);
            _done.TrySetResult();
            Context.Stop(Self);
            return;
        }

        _done.TrySetException(cause);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <summary>The journal's unique key (persistence id, sequence number) refused the write: PostgreSQL's
    /// unique_violation (23505). Only a shared journal has other writers; SQLite's is one node's.</summary>
    internal static bool IsConcurrentWrite(Exception cause)
    {
        for (Exception? e = cause; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException { SqlState: "23505" })
            {
                return true;
            }
        }

        return false;
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
