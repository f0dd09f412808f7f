using MailCluster.Queue.Protocol;

namespace MailCluster.Ops.Tasks;

/// <summary>What a bulk task does to each message its filter matches.</summary>
public enum BulkAction
{
    /// <summary>Every pending recipient fails now; the sender gets the usual DSN (the admin bounce of the queue).</summary>
    Bounce = 0,

    /// <summary>Removed without delivery or bounce (postsuper -d).</summary>
    Delete = 1,
}

/// <summary>The states of a task. <c>running</c> until every queue was visited; a task whose node stopped resumes
/// (<see cref="BulkTaskRunner"/>), so <c>running</c> is also the state of a task waiting to be resumed.</summary>
public static class BulkTaskStates
{
    public const string Running = "running";
    public const string Done = "done";
    public const string Failed = "failed";
}

/// <summary>
/// Which messages a bulk task acts on: every condition given must hold (an empty filter matches every queued message).
/// Applied per domain queue to the messages with a pending recipient; the action covers the message's pending
/// recipients in that queue (a message with recipients in several domains is acted on in each matching queue).
/// </summary>
/// <param name="Domain">The normalised destination domain (all its buckets).</param>
/// <param name="Sender">The envelope sender, compared case-insensitively ("" is the null sender).</param>
/// <param name="Recipient">A pending recipient, compared case-insensitively; implies its domain.</param>
/// <param name="OlderThanSeconds">Arrived at least this long before the task looks at the message.</param>
public sealed record BulkTaskFilter(string? Domain, string? Sender, string? Recipient, long? OlderThanSeconds)
{
    /// <summary>The one domain whose queues can match, when the filter names one.</summary>
    public string? QueueDomain => Domain ?? (Recipient is { } r && r.LastIndexOf('@') is int at and >= 0 ? Queue.DomainKey.TryNormalize(r[(at + 1)..]) : null);

    public bool Matches(QueuedMessageView message, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(message);
        return (Sender is null || string.Equals(message.Sender, Sender, StringComparison.OrdinalIgnoreCase))
            && (Recipient is null || message.Recipients.Any(r => string.Equals(r.Address, Recipient, StringComparison.OrdinalIgnoreCase)))
            && (OlderThanSeconds is not { } age || message.ArrivedAt <= now.AddSeconds(-age));
    }
}

/// <summary>One bulk task as stored (table <c>mc_ops_task</c>) and shown.</summary>
/// <param name="Done">Messages acted on so far (persisted with each progress step, so it survives a restart).</param>
/// <param name="Skipped">Matching messages left alone because a delivery of them was running (409 of the single-message route).</param>
/// <param name="Owner">The node running it (its cluster address); another node takes it over once its heartbeat is stale.</param>
/// <param name="Resumed">How many times the task was taken up again after its node stopped.</param>
public sealed record BulkTask(
    string Id,
    BulkAction Action,
    BulkTaskFilter Filter,
    string State,
    long Done,
    long Skipped,
    string Owner,
    int Resumed,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string CreatedBy,
    string? Error);
