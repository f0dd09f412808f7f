using MailCluster.Queue.Spool;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MailCluster.Storage;

/// <summary>
/// The spool's one writer connection and its prepared statements. Only the group-commit loop uses it (one batch at
/// a time, never concurrently), so it is opened once, its PRAGMAs run once, and each statement is compiled once
/// instead of per batch and per operation. After a failed batch the connection is dropped and reopened on the next
/// one, so a broken handle never outlives the batch that found it.
/// <para>Bodies kept as files (<see cref="SpoolBodyFiles"/>): a write inserts the row naming the file; a release or
/// delete that removes the row collects the file's name, and the files are deleted only after the transaction committed
/// (<paramref name="filesReleased"/>), so a rolled-back batch never loses a body.</para>
/// </summary>
internal sealed class SqliteSpoolWriter(
    Func<CancellationToken, Task<SqliteConnection>> open,
    Action<long>? committed = null,
    Action<IReadOnlyList<string>>? filesReleased = null) : IAsyncDisposable
{
    private const string InsertBodySql =
        "INSERT INTO mc_spool(message_id, body, committed, created_at) VALUES(?1, ?2, 0, ?3) ON CONFLICT(message_id) DO NOTHING";

    private SqliteConnection? _connection;

    // The body insert is a raw SQLite statement: Microsoft.Data.Sqlite binds a BLOB only from a whole byte[], so a body
    // that is a slice of a pooled buffer (the edge's MessageBuffer) would be copied once more; this binds the span.
    private sqlite3_stmt? _insertBody;
    private SqliteCommand? _insertRef;
    private SqliteCommand? _commit;
    private SqliteCommand? _releaseRef;
    private SqliteCommand? _releaseBody;
    private SqliteCommand? _deleteUncommitted;
    private SqliteCommand? _deleteRefs;
    private SqliteCommand? _insertFile;
    private SqliteCommand? _releaseFile;
    private SqliteCommand? _deleteFile;

    /// <summary>Files whose rows the current batch deleted: deleted from disk once it committed.</summary>
    private readonly List<string> _releasedFiles = [];

    /// <summary>Applies <paramref name="ops"/> in one IMMEDIATE transaction (see <see cref="GroupCommitSpoolStore"/>).</summary>
    public async Task<Exception?[]> ApplyAsync(IReadOnlyList<SpoolOp> ops, Func<Task> beforeCommit, Action<string> deleteOfCommittedIgnored)
    {
        var connection = _connection ??= await OpenAsync().ConfigureAwait(false);
        try
        {
            // BEGIN IMMEDIATE: take the write lock up front rather than fail to upgrade a read lock mid-batch.
            using var transaction = connection.BeginTransaction(deferred: false);
            var results = new Exception?[ops.Count];
            _releasedFiles.Clear();
            for (var i = 0; i < ops.Count; i++)
            {
                results[i] = Apply(transaction, ops[i], deleteOfCommittedIgnored);
            }

            await beforeCommit().ConfigureAwait(false);
            transaction.Commit();
            committed?.Invoke(WrittenBytes(ops));
            if (_releasedFiles.Count > 0)
            {
                filesReleased?.Invoke(_releasedFiles.ToArray());
                _releasedFiles.Clear();
            }

            return results;
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var command in new[] { _insertRef, _commit, _releaseRef, _releaseBody, _deleteUncommitted, _deleteRefs, _insertFile, _releaseFile, _deleteFile })
        {
            command?.Dispose();
        }

        _insertBody?.Dispose(); // sqlite3_finalize, before the connection closes
        _insertBody = null;
        _insertRef = _commit = _releaseRef = _releaseBody = _deleteUncommitted = _deleteRefs = _insertFile = _releaseFile = _deleteFile = null;
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
        }
    }

    private async Task<SqliteConnection> OpenAsync()
    {
        var connection = await open(CancellationToken.None).ConfigureAwait(false);
        Check(connection, raw.sqlite3_prepare_v2(connection.Handle, InsertBodySql, out var insertBody));
        _insertBody = insertBody;
        _insertRef = Prepare(connection, "INSERT OR IGNORE INTO mc_spool_ref(message_id, domain) VALUES($id, $domain)", "$id", "$domain");
        _commit = Prepare(connection, "UPDATE mc_spool SET committed = 1 WHERE message_id = $id", "$id");
        _releaseRef = Prepare(connection, "DELETE FROM mc_spool_ref WHERE message_id = $id AND domain = $domain", "$id", "$domain");
        _releaseBody = Prepare(connection, "DELETE FROM mc_spool WHERE message_id = $id AND NOT EXISTS (SELECT 1 FROM mc_spool_ref WHERE message_id = $id)", "$id");
        _deleteUncommitted = Prepare(connection, "DELETE FROM mc_spool WHERE message_id = $id AND committed = 0", "$id");
        _deleteRefs = Prepare(connection, "DELETE FROM mc_spool_ref WHERE message_id = $id", "$id");
        _insertFile = Prepare(connection, "INSERT INTO mc_spool_file(message_id, file_name, length) VALUES($id, $name, $length)", "$id", "$name", "$length");
        _releaseFile = Prepare(
            connection,
            "DELETE FROM mc_spool_file WHERE message_id = $id AND NOT EXISTS (SELECT 1 FROM mc_spool_ref WHERE message_id = $id) RETURNING file_name",
            "$id");
        _deleteFile = Prepare(connection, "DELETE FROM mc_spool_file WHERE message_id = $id RETURNING file_name", "$id");
        return connection;
    }

    private static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }

    private static int Run(SqliteCommand command, SqliteTransaction transaction, params object[] values)
    {
        command.Transaction = transaction;
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }

        return command.ExecuteNonQuery();
    }

    private Exception? Apply(SqliteTransaction transaction, SpoolOp op, Action<string> deleteOfCommittedIgnored)
    {
        var id = op.MessageId;
        switch (op)
        {
            case WriteOp write:
                if (InsertBody(transaction.Connection!, id, write.Body.Span) == 0)
                {
                    return DuplicateMessageIdException.For(id);
                }

                if (write.BodyFile is { } file)
                {
                    Run(_insertFile!, transaction, id, file.Name, file.Length);
                }

                foreach (var domain in write.Domains)
                {
                    Run(_insertRef!, transaction, id, domain);
                }

                if (write.Committed)
                {
                    Run(_commit!, transaction, id);
                }

                return null;

            case CommitOp:
                return Run(_commit!, transaction, id) == 0 ? SpoolMessageNotFoundException.For(id) : null;

            case ReleaseOp release:
                Run(_releaseRef!, transaction, id, release.Domain);
                CollectFiles(_releaseFile!, transaction, id);
                Run(_releaseBody!, transaction, id);
                return null;

            case DeleteUncommittedOp:
                if (Run(_deleteUncommitted!, transaction, id) > 0)
                {
                    Run(_deleteRefs!, transaction, id);
                    CollectFiles(_deleteFile!, transaction, id);
                }
                else
                {
                    deleteOfCommittedIgnored(id);
                }

                return null;

            default:
                throw new NotSupportedException($"Unknown spool operation {op.GetType().Name}.");
        }
    }

    /// <summary>Runs a <c>DELETE ... RETURNING file_name</c> and remembers the names for after the commit.</summary>
    private void CollectFiles(SqliteCommand command, SqliteTransaction transaction, string id)
    {
        command.Transaction = transaction;
        command.Parameters[0].Value = id;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            _releasedFiles.Add(reader.GetString(0));
        }
    }

    /// <summary>What a batch added to the WAL, roughly: the bodies plus a page per operation.</summary>
    private static long WrittenBytes(IReadOnlyList<SpoolOp> ops)
    {
        long bytes = 0;
        foreach (var op in ops)
        {
            bytes += 4096 + (op is WriteOp write ? write.Body.Length : 0);
        }

        return bytes;
    }

    /// <summary>Runs the body insert inside the open transaction (same connection); returns the rows inserted.</summary>
    private int InsertBody(SqliteConnection connection, string id, ReadOnlySpan<byte> body)
    {
        var statement = _insertBody!;
        raw.sqlite3_reset(statement);
        Check(connection, raw.sqlite3_bind_text(statement, 1, id));
        Check(connection, body.IsEmpty ? raw.sqlite3_bind_zeroblob(statement, 2, 0) : raw.sqlite3_bind_blob(statement, 2, body));
        Check(connection, raw.sqlite3_bind_int64(statement, 3, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        var step = raw.sqlite3_step(statement);
        raw.sqlite3_clear_bindings(statement); // drop SQLite's copy of the body now, not at the next insert
        raw.sqlite3_reset(statement);
        if (step != raw.SQLITE_DONE)
        {
            Check(connection, step);
        }

        return raw.sqlite3_changes(connection.Handle);
    }

    private static void Check(SqliteConnection connection, int rc)
    {
        if (rc != raw.SQLITE_OK && rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        }
    }
}
