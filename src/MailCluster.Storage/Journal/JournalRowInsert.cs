using Microsoft.Data.Sqlite;

namespace MailCluster.Storage.Journal;

/// <summary>One serialized event as a row of Akka.Persistence.Sql's <c>journal</c> table (its SQLite schema).</summary>
internal readonly record struct JournalRowValues(
    long Created, string PersistenceId, long SequenceNumber, byte[] Message, string Manifest, int Identifier, string WriterUuid);

/// <summary>
/// Inserts journal rows into the embedded journal's SQLite file in one transaction per call, with one prepared
/// statement kept for the connection's lifetime: the rows Akka.Persistence.Sql writes (same table, same columns and
/// value types, <c>deleted</c> 0, <c>ordering</c> from the table's AUTOINCREMENT), without building the INSERT's text
/// for each batch. The commit is durable when it returns (WAL, <c>synchronous=FULL</c>: fsync). Not thread-safe: the
/// journal calls it from its one thread.
/// </summary>
internal sealed class JournalRowInsert(string connectionString) : IDisposable
{
    private const string InsertSql =
        "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) " +
        "VALUES ($created, 0, $persistence_id, $sequence_number, $message, $manifest, $identifier, $writer_uuid)";

    private SqliteConnection? connection;
    private SqliteCommand? insert;

    /// <summary>Inserts every row and commits; on any failure nothing of the call is committed and it throws.</summary>
    public void Run(IEnumerable<JournalRowValues> rows)
    {
        var command = insert ?? Open();
        try
        {
            using var transaction = connection!.BeginTransaction();
            command.Transaction = transaction;
            foreach (var row in rows)
            {
                command.Parameters[0].Value = row.Created;
                command.Parameters[1].Value = row.PersistenceId;
                command.Parameters[2].Value = row.SequenceNumber;
                command.Parameters[3].Value = row.Message;
                command.Parameters[4].Value = row.Manifest;
                command.Parameters[5].Value = row.Identifier;
                command.Parameters[6].Value = row.WriterUuid;
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }
        catch
        {
            // The connection's state is unknown after a failure (busy, I/O error): the next call opens a new one.
            Dispose();
            throw;
        }
        finally
        {
            if (insert is not null)
            {
                insert.Transaction = null;
            }
        }
    }

    public void Dispose()
    {
        insert?.Dispose();
        connection?.Dispose();
        insert = null;
        connection = null;
    }

    private SqliteCommand Open()
    {
        connection = new SqliteConnection(connectionString);
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            // SQLite's default, said here because durability depends on it: each commit is fsync'd before it returns.
            pragma.CommandText = "PRAGMA synchronous=FULL;";
            pragma.ExecuteNonQuery();
        }

        SqliteBusyTimeout.Apply(connection);
        insert = connection.CreateCommand();
        insert.CommandText = InsertSql;
        insert.Parameters.Add("$created", SqliteType.Integer);
        insert.Parameters.Add("$persistence_id", SqliteType.Text);
        insert.Parameters.Add("$sequence_number", SqliteType.Integer);
        insert.Parameters.Add("$message", SqliteType.Blob);
        insert.Parameters.Add("$manifest", SqliteType.Text);
        insert.Parameters.Add("$identifier", SqliteType.Integer);
        insert.Parameters.Add("$writer_uuid", SqliteType.Text);
        insert.Prepare();
        return insert;
    }
}
