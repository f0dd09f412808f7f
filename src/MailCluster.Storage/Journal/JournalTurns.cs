namespace MailCluster.Storage.Journal;

/// <summary>
/// Where the journal compaction runs its write transactions. On PostgreSQL, where writers lock rows and not the whole
/// database, anywhere (<see cref="Inline"/>). On SQLite, between the journal's own writes, on its one thread (<see
/// cref="SqliteJournalTurns"/>): SQLite has one writer at a time, and a journal write that found the compaction's
/// transaction holding it waited in Microsoft.Data.Sqlite's 150 ms retry (the soak's p99 spike in each minute with a
/// compaction pass).
/// </summary>
public abstract class JournalTurns
{
    /// <summary>Runs the work where it is called.</summary>
    public static readonly JournalTurns Inline = new InlineTurns();

    /// <summary>Runs <paramref name="work"/> in a turn and returns its result.</summary>
    public abstract Task<T> RunAsync<T>(Func<Task<T>> work, CancellationToken ct);

    private sealed class InlineTurns : JournalTurns
    {
        public override Task<T> RunAsync<T>(Func<Task<T>> work, CancellationToken ct) => work();
    }
}
