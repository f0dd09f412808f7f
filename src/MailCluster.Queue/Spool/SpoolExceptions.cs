namespace MailCluster.Queue.Spool;

/// <summary>
/// <see cref="ISpoolStore.WriteAsync"/> was given an id that is already stored. Message ids are unique; the
/// existing body is left untouched. Only the offending call fails; the rest of its batch commits.
/// </summary>
public sealed class DuplicateMessageIdException : InvalidOperationException
{
    public DuplicateMessageIdException()
    {
    }

    public DuplicateMessageIdException(string message)
        : base(message)
    {
    }

    public DuplicateMessageIdException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal static DuplicateMessageIdException For(string messageId) =>
        new($"Spool already holds message id '{messageId}'; ids must be unique.");
}

/// <summary>
/// <see cref="ISpoolStore.CommitAsync"/> named a body that is not stored (never written, or deleted after a
/// failed acceptance). Committing it would promise delivery of nothing, so the call fails.
/// </summary>
public sealed class SpoolMessageNotFoundException : InvalidOperationException
{
    public SpoolMessageNotFoundException()
    {
    }

    public SpoolMessageNotFoundException(string message)
        : base(message)
    {
    }

    public SpoolMessageNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal static SpoolMessageNotFoundException For(string messageId) =>
        new($"Spool holds no message '{messageId}' to commit.");
}
