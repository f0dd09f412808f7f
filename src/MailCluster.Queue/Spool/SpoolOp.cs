namespace MailCluster.Queue.Spool;

/// <summary>One queued mutation of the spool; a batch applies them in queue order inside one transaction.</summary>
internal abstract record SpoolOp(string MessageId)
{
    /// <summary>Bytes this operation adds to a batch (for <see cref="GroupCommitOptions.MaxBatchBytes"/>).</summary>
    public virtual long Size => 64;
}

/// <param name="Domains">Distinct, lower-cased recipient domains; never empty.</param>
internal sealed record WriteOp(string MessageId, ReadOnlyMemory<byte> Body, string[] Domains) : SpoolOp(MessageId)
{
    /// <summary>Set when the body is already durable in a file of the provider's (then <see cref="Body"/> is empty and
    /// the row only names the file); see SQLite's SpoolBodyFiles.</summary>
    public BodyFileRef? BodyFile { get; init; }

    /// <summary>Stored already committed, in the write's own transaction (a provider that says it can:
    /// <see cref="ISpoolStore.WritesCommittedAtOnce"/>); a write refused as a duplicate commits nothing.</summary>
    public bool Committed { get; init; }

    public override long Size => Body.Length + 64;
}

/// <summary>A body stored as a file: the file's name and its length in bytes.</summary>
internal sealed record BodyFileRef(string Name, long Length);

internal sealed record CommitOp(string MessageId) : SpoolOp(MessageId);

internal sealed record ReleaseOp(string MessageId, string Domain) : SpoolOp(MessageId);

internal sealed record DeleteUncommittedOp(string MessageId) : SpoolOp(MessageId);
