using Akka.Actor;
using MailCluster.Storage.Journal;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>
/// The journal compaction's turns on an embedded node run on the SQLite journal's own thread (the dispatcher its
/// journal, write stream and snapshot store run on), so they take turns with the journal's writes: a turn waits while
/// that thread is busy, and a failed turn reports its exception.
/// </summary>
public sealed class SqliteJournalTurnsTests() : NodeDirectoryTest("turns")
{
    [Fact]
    public Task A_turn_runs_on_the_journal_thread_and_waits_while_it_is_busy() => StorageNode.RunAsync(new StorageOptions(), Directory, async services =>
    {
        var system = services.GetRequiredService<ActorSystem>();
        var turns = new SqliteJournalTurns(() => system);
        var onJournalThread = system.ActorOf(Props.Create<ThreadProbe>().WithDispatcher(StorageHosting.SqliteJournalDispatcherId));

        // 1. The same thread as an actor on the journal's dispatcher, and not the caller's.
        int journalThread = await onJournalThread.Ask<int>(ThreadProbe.WhichThread, TimeSpan.FromSeconds(10), Ct);
        int turnThread = await turns.RunAsync(() => Task.FromResult(Environment.CurrentManagedThreadId), Ct);
        Assert.Equal(journalThread, turnThread);

        // 2. While something else holds that thread (as a journal write does), the turn waits for it.
        using var release = new ManualResetEventSlim();
        onJournalThread.Tell(release);
        var blocked = turns.RunAsync(() => Task.FromResult(true), Ct);
        await Task.Delay(300, Ct);
        Assert.False(blocked.IsCompleted);
        release.Set();
        Assert.True(await blocked.WaitAsync(TimeSpan.FromSeconds(10), Ct));

        // 3. A failing turn reports its exception, and the next turn still runs.
        await Assert.ThrowsAsync<InvalidOperationException>(() => turns.RunAsync<int>(() => throw new InvalidOperationException("boom"), Ct));
        Assert.Equal(journalThread, await turns.RunAsync(() => Task.FromResult(Environment.CurrentManagedThreadId), Ct));
    }, Ct);

    private sealed class ThreadProbe : UntypedActor
    {
        public const string WhichThread = "which-thread";

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case WhichThread:
                    Sender.Tell(Environment.CurrentManagedThreadId);
                    break;
                case ManualResetEventSlim release:
                    release.Wait(TimeSpan.FromSeconds(30)); // holds the thread, as a journal write in fsync does
                    break;
                default:
                    Unhandled(message);
                    break;
            }
        }
    }
}
