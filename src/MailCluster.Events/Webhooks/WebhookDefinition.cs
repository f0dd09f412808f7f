namespace MailCluster.Events.Webhooks;

/// <summary>A webhook: where to POST which event types, signed with <paramref name="Secret"/>.</summary>
/// <param name="Id">Generated (<c>wh_…</c>) for webhooks made through the API; <c>config-N</c> for configured ones.</param>
/// <param name="Events">The event types sent; every type when created without a list.</param>
/// <param name="BatchSize">1: each event is POSTed alone as a JSON object; more: a JSON array of up to this many.</param>
/// <param name="MaxRetrySeconds">How long a failing batch is retried before it is recorded as failed and passed;
/// null: the node's <c>MailCluster:Webhooks:MaxRetrySeconds</c>.</param>
/// <param name="Origin"><c>api</c> or <c>config</c> (a configured webhook is changed in configuration, not deleted).</param>
public sealed record WebhookDefinition(
    string Id,
    string Url,
    string Secret,
    IReadOnlyList<string> Events,
    int BatchSize,
    int? MaxRetrySeconds,
    string Origin,
    DateTimeOffset Created)
{
    public const string ApiOrigin = "api";
    public const string ConfigOrigin = "config";
    public const int MaxBatchSize = 1000;

    public static IReadOnlyList<string> ParseEvents(string stored) =>
        [.. stored.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(EventTypes.Parse).OfType<string>()];

    /// <summary>The types to send: all when the list is empty.</summary>
    public IReadOnlyList<string> EffectiveEvents => Events.Count == 0 ? EventTypes.All : Events;

    /// <summary>True when both send the same events to the same place the same way (a change restarts the worker).</summary>
    public bool SameDelivery(WebhookDefinition other) =>
        other is not null && Url == other.Url && Secret == other.Secret && BatchSize == other.BatchSize
        && MaxRetrySeconds == other.MaxRetrySeconds && Events.SequenceEqual(other.Events);

    /// <summary>Null when <paramref name="url"/> is an absolute http or https URL, else why not.</summary>
    public static string? CheckUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.Host)
            ? null
            : "must be an absolute http:// or https:// URL";
}

/// <param name="Offset">The last event offset sent (or given up on).</param>
/// <param name="FailingSince">When the batch after <paramref name="Offset"/> first failed; null when not failing.
/// Persisted, so the retry window survives a move to another node.</param>
/// <param name="FailedEvents">Events given up on after the retry window, in all.</param>
public sealed record WebhookCursor(long Offset, DateTimeOffset? FailingSince, long FailedEvents);

/// <summary>One POST and its answer.</summary>
/// <param name="Result"><c>delivered</c> (2xx), <c>retrying</c> (failed, retried later) or <c>failed</c> (the retry
/// window passed: the events are recorded as failed and passed).</param>
public sealed record WebhookAttempt(
    DateTimeOffset At,
    long FirstOffset,
    long LastOffset,
    int Events,
    int? Status,
    string? Answer,
    string? Error,
    long DurationMs,
    string Result);
