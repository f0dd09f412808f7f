namespace MailCluster.Api;

/// <summary>
/// The answer to an inject request, KumoMTA's fields plus ours: <c>queue_ids</c>, one per recipient in request
/// order (null for a recipient that was not queued). Serialized snake_case.
/// </summary>
public sealed record InjectResponse(
    int SuccessCount,
    int FailCount,
    IReadOnlyList<string> FailedRecipients,
    IReadOnlyList<string> Errors,
    IReadOnlyList<string?> QueueIds)
{
    /// <summary>200 when every message is durable; 503 when any is not (the queued ones stay queued).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int Status => FailCount == 0 ? 200 : 503;
}
