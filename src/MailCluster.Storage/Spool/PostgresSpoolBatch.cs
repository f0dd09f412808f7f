using System.Runtime.InteropServices;
using MailCluster.Queue.Spool;
using Npgsql;
using NpgsqlTypes;

namespace MailCluster.Storage;

/// <summary>
/// A spool batch applied set-wise: one statement per kind of operation (all writes, all commit flags, all releases, all
/// deletes) whatever the number of operations, each taking arrays, instead of one statement per operation. Under load a
/// group-commit batch holds the writes and commit flags of many sessions and the releases of many deliveries; PostgreSQL
/// then plans and executes a handful of statements per transaction and Npgsql writes a handful of messages.
/// <para>Same rows, same transaction, same locks as the statement-per-operation form (<see cref="PostgresSpoolStore"/>),
/// so durability and the release race are unchanged. The set-wise form cannot say which operation was rejected, only
/// how many rows each statement touched; when that count is not the one expected (a duplicate id in the database, a
/// commit flag for a missing body: mistakes, not traffic), the caller rolls the transaction back and applies the batch
/// statement by statement, which attributes each rejection.</para>
/// </summary>
internal sealed class PostgresSpoolBatch
{
    // RecordsAffected = references inserted, which is every reference of every write when no id was there already.
    private const string WriteSql = """
        WITH ins AS (
            INSERT INTO mc_spool(message_id, body) SELECT * FROM unnest($1::text[], $2::bytea[])
            ON CONFLICT (message_id) DO NOTHING RETURNING message_id)
        INSERT INTO mc_spool_ref(message_id, domain)
        SELECT r.id, r.domain FROM unnest($3::text[], $4::text[]) AS r(id, domain) JOIN ins ON ins.message_id = r.id
        ON CONFLICT DO NOTHING
        """;

    private const string CommitSql = "UPDATE mc_spool SET committed = true WHERE message_id = ANY($1)";

    private const string ReleaseRefsSql = """
        DELETE FROM mc_spool_ref AS r USING unnest($1::text[], $2::text[]) AS x(id, domain)
        WHERE r.message_id = x.id AND r.domain = x.domain
        """;

    private const string ReleaseBodiesSql = """
        DELETE FROM mc_spool AS s WHERE s.message_id = ANY($1)
        AND NOT EXISTS (SELECT 1 FROM mc_spool_ref AS r WHERE r.message_id = s.message_id)
        """;

    // References go first, and only while the body is still uncommitted (as for a single delete).
    private const string DeleteRefsSql = """
        DELETE FROM mc_spool_ref AS r WHERE r.message_id = ANY($1)
        AND NOT EXISTS (SELECT 1 FROM mc_spool AS s WHERE s.message_id = r.message_id AND s.committed)
        """;

    private const string DeleteBodiesSql = "DELETE FROM mc_spool WHERE message_id = ANY($1) AND NOT committed";

    private readonly List<WriteOp> writes = [];
    private readonly List<string> commits = [];
    private readonly List<ReleaseOp> releases = [];
    private readonly List<string> deletes = [];
    private readonly Exception?[] results;
    private int writeCommand = -1;
    private int commitCommand = -1;
    private int expectedReferences;
    private int expectedCommits;

    private PostgresSpoolBatch(int count) => results = new Exception?[count];

    /// <summary>
    /// The set-wise form of <paramref name="ops"/>, or null when an id appears in operations of two kinds (a write and
    /// its commit flag in one batch, say): their order then matters, and only the statement-per-operation form keeps it.
    /// A second write of an id already written in this batch is rejected here as a duplicate, as it would be in order.
    /// </summary>
    public static PostgresSpoolBatch? TryPlan(IReadOnlyList<SpoolOp> ops)
    {
        var kinds = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var op in ops)
        {
            if (kinds.TryGetValue(op.MessageId, out var kind) && kind != op.GetType())
            {
                return null;
            }

            kinds[op.MessageId] = op.GetType();
        }

        var plan = new PostgresSpoolBatch(ops.Count);
        var written = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < ops.Count; i++)
        {
            switch (ops[i])
            {
                case WriteOp write when !written.Add(write.MessageId):
                    plan.results[i] = DuplicateMessageIdException.For(write.MessageId);
                    break;
                case WriteOp write:
                    plan.writes.Add(write);
                    plan.expectedReferences += write.Domains.Length;
                    break;
                case CommitOp commit:
                    plan.commits.Add(commit.MessageId);
                    break;
                case ReleaseOp release:
                    plan.releases.Add(release);
                    break;
                case DeleteUncommittedOp delete:
                    plan.deletes.Add(delete.MessageId);
                    break;
                default:
                    throw new NotSupportedException($"Unknown spool operation {ops[i].GetType().Name}.");
            }
        }

        return plan;
    }

    /// <summary>Adds this batch's statements (after the caller's row locks).</summary>
    public void AddTo(NpgsqlBatch batch)
    {
        if (writes.Count > 0)
        {
            writeCommand = Add(
                batch,
                WriteSql,
                Text([.. writes.Select(w => w.MessageId)]),
                new NpgsqlParameter<byte[][]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, TypedValue = [.. writes.Select(w => Bytes(w.Body))] },
                Text([.. writes.SelectMany(w => w.Domains.Select(_ => w.MessageId))]),
                Text([.. writes.SelectMany(w => w.Domains)]));
        }

        if (commits.Count > 0)
        {
            var ids = commits.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            expectedCommits = ids.Length;
            commitCommand = Add(batch, CommitSql, Text(ids));
        }

        if (releases.Count > 0)
        {
            Add(batch, ReleaseRefsSql, Text([.. releases.Select(r => r.MessageId)]), Text([.. releases.Select(r => r.Domain)]));
            Add(batch, ReleaseBodiesSql, Text([.. releases.Select(r => r.MessageId).Distinct(StringComparer.Ordinal)]));
        }

        if (deletes.Count > 0)
        {
            var ids = deletes.Distinct(StringComparer.Ordinal).ToArray();
            Add(batch, DeleteRefsSql, Text(ids));
            Add(batch, DeleteBodiesSql, Text(ids));
        }
    }

    /// <summary>One result per operation once <paramref name="batch"/> ran: null (applied) or the duplicate rejected in
    /// <see cref="TryPlan"/>; null when a statement touched fewer rows than expected (roll back, apply op by op).</summary>
    public Exception?[]? Results(NpgsqlBatch batch)
    {
        if (writeCommand >= 0 && batch.BatchCommands[writeCommand].RecordsAffected != expectedReferences)
        {
            return null;
        }

        if (commitCommand >= 0 && batch.BatchCommands[commitCommand].RecordsAffected != expectedCommits)
        {
            return null;
        }

        return results;
    }

    internal static int Add(NpgsqlBatch batch, string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        batch.BatchCommands.Add(command);
        return batch.BatchCommands.Count - 1;
    }

    internal static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value };

    internal static NpgsqlParameter<string[]> Text(string[] values) => new() { TypedValue = values };

    /// <summary>The body's own array when it is one whole array (the usual case), else a copy: an array parameter
    /// takes arrays.</summary>
    private static byte[] Bytes(ReadOnlyMemory<byte> body) =>
        MemoryMarshal.TryGetArray(body, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : body.ToArray();
}
