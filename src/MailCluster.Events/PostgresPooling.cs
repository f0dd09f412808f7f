using System.Data.Common;
using Npgsql;

namespace MailCluster.Events;

/// <summary>
/// The connection string of the events' own pools on PostgreSQL (<see cref="EventStore"/>, <see cref="PostgresJournalTail"/>):
/// no session reset when a connection goes back to the pool (<c>No Reset On Close</c>), unless the operator's string sets
/// the key. By default Npgsql resets a pooled connection before its next use: DISCARD ALL, or, on a connection with a
/// prepared statement (the journal tail prepares its read), seven statements (RESET ALL, CLOSE ALL, UNLISTEN *, ...),
/// which a node on PostgreSQL ran after every read of the tail: 0.65 statements per delivered message (docs/BENCHMARKS.md,
/// session s28). These connections never change session state (no SET, LISTEN, temporary table or session advisory lock;
/// the append lock is transaction-scoped), so there is nothing to reset. The spool and the journal do the same
/// (MailCluster.Storage's <c>PostgresSpoolStore.WithAutoPrepare</c>).
/// </summary>
internal static class PostgresPooling
{
    public static string WithoutReset(string connectionString)
    {
        // Npgsql's builder answers ContainsKey for every keyword it knows, set or not: ask the string as written.
        var written = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (written.Keys.Cast<string>().Any(key => key.Replace(" ", "", StringComparison.Ordinal).Equals("NoResetOnClose", StringComparison.OrdinalIgnoreCase)))
        {
            return connectionString;
        }

        return new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true }.ConnectionString;
    }
}
