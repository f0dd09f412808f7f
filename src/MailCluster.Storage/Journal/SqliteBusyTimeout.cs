using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace MailCluster.Storage.Journal;

/// <summary>
/// A busy timeout for the journal compaction's SQLite connections and the embedded journal's writer
/// (<see cref="JournalRowInsert"/>). Without one, Microsoft.Data.Sqlite answers a locked
/// database by sleeping 150 ms and trying again; with one, SQLite's own handler retries within a millisecond or two of
/// the lock's release. (Giving Akka.Persistence.Sql's own journal connections one, through a linq2db connection
/// interceptor, was tried and reverted: see StorageHosting.WithStorage.)
/// </summary>
public static class SqliteBusyTimeout
{
    /// <summary>The compaction's timeout: as long as the spool's.</summary>
    public const int JournalMilliseconds = 10_000;

    /// <summary>Sets the busy timeout of an open SQLite connection (other connections are left alone).</summary>
    public static void Apply(DbConnection connection, int milliseconds = JournalMilliseconds)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            SQLitePCL.raw.sqlite3_busy_timeout(handle, milliseconds);
        }
    }
}
