namespace MailCluster.Edge.Credentials;

/// <summary>
/// A key's <see cref="ApiKey.RatePerMinute"/> and <see cref="ApiKey.DailyQuota"/>, held across the whole cluster:
/// each key's counter lives in one place (a sharded entity per key id), and every node asks it.
/// </summary>
public interface IQuotaGate
{
    /// <summary>
    /// Takes <paramref name="messages"/> from the key's allowance, all or nothing. A key without limits is allowed
    /// without a round trip. An unknown key is refused (<see cref="QuotaOutcome.UnknownKey"/>). When the counter cannot
    /// be reached in time the answer is <see cref="QuotaOutcome.Unavailable"/>: refuse temporarily, never send unmetered.
    /// </summary>
    ValueTask<QuotaDecision> TryConsumeAsync(string keyId, int messages, CancellationToken cancellationToken);
}

public enum QuotaOutcome
{
    Allowed,

    /// <summary>More than <see cref="ApiKey.RatePerMinute"/> in the last minute: wait <see cref="QuotaDecision.RetryAfter"/>.</summary>
    RateLimited,

    /// <summary>The UTC day's <see cref="ApiKey.DailyQuota"/> is used up: wait until midnight UTC (<see cref="QuotaDecision.RetryAfter"/>).</summary>
    DailyQuotaExhausted,

    /// <summary>The request alone is larger than the key's rate or daily quota: it can never pass whole.</summary>
    TooLarge,

    UnknownKey,

    /// <summary>The key's counter did not answer in time (a node left, the shard is moving): try again shortly.</summary>
    Unavailable,
}

/// <summary>The gate's answer. SMTP maps a refusal to 451 4.7.1, the HTTP API to 429 with <c>Retry-After</c>
/// (<see cref="RetryAfter"/> rounded up to whole seconds).</summary>
public sealed record QuotaDecision(QuotaOutcome Outcome, TimeSpan RetryAfter, string Reason)
{
    public static QuotaDecision Allow { get; } = new(QuotaOutcome.Allowed, TimeSpan.Zero, "within quota");

    public bool Allowed => Outcome == QuotaOutcome.Allowed;

    /// <summary>Whole seconds for an HTTP <c>Retry-After</c> header (at least 1 for a refusal).</summary>
    public int RetryAfterSeconds => Allowed ? 0 : Math.Max(1, (int)Math.Ceiling(RetryAfter.TotalSeconds));
}
