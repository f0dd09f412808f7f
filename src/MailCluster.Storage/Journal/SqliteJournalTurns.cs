using Akka.Actor;

namespace MailCluster.Storage.Journal;

/// <summary>
/// Turns on the SQLite journal's own thread: an actor on the journal's dispatcher (<see
/// cref="StorageHosting.SqliteJournalDispatcherId"/>, one dedicated thread shared by the journal, its write stream and
/// the snapshot store) runs each piece of work to its end while it holds that thread. The journal's writes and the
/// work therefore take turns and never meet SQLite's write lock held by the other: the journal waits for a compaction
/// transaction as long as it lasts (a few milliseconds), not for a 150 ms retry. Microsoft.Data.Sqlite's asynchronous
/// methods complete synchronously, so the work's task is complete when it returns and the turn is exactly its
/// transaction. The actor is started at the first turn, when the actor system is up.
/// </summary>
public sealed class SqliteJournalTurns(Func<ActorSystem> system) : JournalTurns
{
    private readonly Lazy<IActorRef> runner = new(() => system().ActorOf(
        Props.Create<Runner>().WithDispatcher(StorageHosting.SqliteJournalDispatcherId)));

    public override async Task<T> RunAsync<T>(Func<Task<T>> work, CancellationToken ct)
    {
        var turn = new Turn<T>(work, ct);
        runner.Value.Tell(turn);
        return await turn.Done.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    private abstract class Turn
    {
        public abstract void Run();
    }

    private sealed class Turn<T>(Func<Task<T>> work, CancellationToken ct) : Turn
    {
        public TaskCompletionSource<T> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Run()
        {
            if (ct.IsCancellationRequested)
            {
                Done.TrySetCanceled(ct);
                return;
            }

            try
            {
                // Complete already for SQLite (see the class); waited for here, on the journal's thread, if it is not.
                Done.TrySetResult(work().GetAwaiter().GetResult());
            }
            catch (Exception ex)
            {
                Done.TrySetException(ex);
            }
        }
    }

    private sealed class Runner : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (message is Turn turn)
            {
                turn.Run();
            }
            else
            {
                Unhandled(message);
            }
        }
    }
}
