using MailCluster.Queue.Spool;
using Npgsql;

namespace MailCluster.Storage;

/// <summary>
/// The PostgreSQL spool's body reads, batched: a read asked while <see cref="MaxInFlight"/> others are in flight waits,
/// and the reads that waited meanwhile are answered together by one statement over an array of ids, so under load a
/// delivery costs a share of one statement, one transaction and one pooled connection instead of one each (a node on
/// PostgreSQL made one read per delivered message, the only statement it still ran per message: docs/BENCHMARKS.md,
/// session s28). When nothing else is in flight a read runs at once, alone, as before.
/// <para>Same answer as one read per id: a read is a single statement (its own snapshot), and a body's bytes never change
/// once written (ids are never reused), only its commit flag and existence; every waiter of an id gets that statement's
/// row. A failure of the statement fails every read of its batch (each caller already treats a failed read as
/// transient). Cancellation is honoured until the read joins a batch.</para>
/// </summary>
internal sealed class PostgresSpoolReads(NpgsqlDataSource dataSource)
{
    /// <summary>Reads answered by one statement at most.</summary>
    public const int MaxBatch = 64;

    /// <summary>Statements in flight at once: a large body being read does not hold up every other delivery.</summary>
    public const int MaxInFlight = 2;

    private const string Sql = "SELECT message_id, committed, body FROM mc_spool WHERE message_id = ANY($1)";

    private readonly Lock gate = new();
    private readonly Queue<Pending> waiting = new();
    private int inFlight;
    private long statements;

    /// <summary>Statements executed so far (tests: concurrent reads share them).</summary>
    public long Statements => Interlocked.Read(ref statements);

    /// <summary>Test seam: awaited before each statement runs, with the number of reads it answers, so a test can hold
    /// the statements in flight while it asks for more reads (whether reads overlap must not depend on how fast the
    /// test's thread runs).</summary>
    internal Func<int, Task>? BeforeStatementForTests { get; set; }

    public Task<SpoolEntry> ReadAsync(string messageId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new Pending(messageId, cancellationToken);
        List<Pending>? batch = null;
        lock (gate)
        {
            waiting.Enqueue(pending);
            if (inFlight < MaxInFlight)
            {
                inFlight++;
                batch = TakeLocked();
            }
        }

        if (batch is not null)
        {
            _ = RunAsync(batch);
        }

        return pending.Completion.Task;
    }

    /// <summary>Runs batches until none waits, then gives its slot back.</summary>
    private async Task RunAsync(List<Pending> batch)
    {
        while (true)
        {
            if (batch.Count > 0)
            {
                if (BeforeStatementForTests is { } before)
                {
                    await before(batch.Count).ConfigureAwait(false);
                }

                await ExecuteAsync(batch).ConfigureAwait(false);
            }

            lock (gate)
            {
                if (waiting.Count == 0)
                {
                    inFlight--;
                    return;
                }

                batch = TakeLocked();
            }
        }
    }

    private List<Pending> TakeLocked()
    {
        var batch = new List<Pending>(Math.Min(waiting.Count, MaxBatch));
        while (batch.Count < MaxBatch && waiting.TryDequeue(out var next))
        {
            if (next.CancellationToken.IsCancellationRequested)
            {
                next.Completion.TrySetCanceled(next.CancellationToken);
                continue;
            }

            batch.Add(next);
        }

        return batch;
    }

    private async Task ExecuteAsync(List<Pending> batch)
    {
        Interlocked.Increment(ref statements);
        var found = new Dictionary<string, SpoolEntry>(batch.Count, StringComparer.Ordinal);
        try
        {
            await using var command = dataSource.CreateCommand(Sql);
            command.Parameters.Add(PostgresSpoolBatch.Text([.. batch.Select(p => p.MessageId).Distinct(StringComparer.Ordinal)]));
            var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync().ConfigureAwait(false))
                {
                    var status = reader.GetBoolean(1) ? SpoolStatus.Committed : SpoolStatus.Uncommitted;
                    found[reader.GetString(0)] = new SpoolEntry(status, await reader.GetFieldValueAsync<byte[]>(2).ConfigureAwait(false));
                }
            }
        }
#pragma warning disable CA1031 // The statement's failure is every waiter's; the slot must go on serving the next reads.
        catch (Exception e)
#pragma warning restore CA1031
        {
            foreach (var pending in batch)
            {
                pending.Completion.TrySetException(e);
            }

            return;
        }

        foreach (var pending in batch)
        {
            pending.Completion.TrySetResult(found.GetValueOrDefault(pending.MessageId) ?? SpoolEntry.Missing);
        }
    }

    /// <summary>A caller's read; its continuation never runs on the batch's loop.</summary>
    private sealed class Pending(string messageId, CancellationToken cancellationToken)
    {
        public string MessageId { get; } = messageId;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource<SpoolEntry> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
