using System.Data.Common;
using LinqToDB.Interceptors;
using Microsoft.Data.Sqlite;

namespace MailCluster.Storage.Journal;

/// <summary>
/// Gives every SQLite connection of the journal and snapshot store (linq2db's, opened by Akka.Persistence.Sql) a
/// busy timeout. Without one, Microsoft.Data.Sqlite answers a locked database by sleeping 150 ms and trying again, so
/// a journal write that meets another writer's transaction (the journal compaction's few-millisecond deletes) waited
/// at least 150 ms, on the journal's only thread, and every queue's writes behind it: the soak's p99 spikes of
/// 180-210 ms in each minute a compaction ran. With a busy timeout SQLite's own handler retries within a millisecond
/// or two of the lock's release. Set on the native handle, once per open (a pooled handle keeps it anyway).
/// </summary>
public sealed class SqliteBusyTimeout(int milliseconds) : IConnectionInterceptor
{
    /// <summary>The journal's timeout: as long as the spool's (a write never fails for a short lock).</summary>
    public static readonly SqliteBusyTimeout Journal = new(10_000);

    public int Milliseconds { get; } = milliseconds;

    public void ConnectionOpening(ConnectionEventData eventData, DbConnection connection)
    {
    }

    public Task ConnectionOpeningAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public void ConnectionOpened(ConnectionEventData eventData, DbConnection connection) => Apply(connection);

    public Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    /// <summary>Sets the busy timeout of an open SQLite connection (other connections are left alone).</summary>
    public void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            SQLitePCL.raw.sqlite3_busy_timeout(handle, Milliseconds);
        }
    }
}
