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
    public override long Size => Body.Length + 64;
}

internal sealed record CommitOp(string MessageId) : SpoolOp(MessageId);

internal sealed record ReleaseOp(string MessageId, string Domain) : SpoolOp(MessageId);

internal sealed record DeleteUncommittedOp(string MessageId) : SpoolOp(MessageId);
