namespace MailCluster.Api.Idempotency;

/// <summary>A stored idempotency record: the request's body hash, its state and, once answered, the answer.</summary>
/// <param name="State"><see cref="Pending"/> while a request holds the key; <see cref="Done"/> after a 200;
/// <see cref="Partial"/> after a 503 (some recipients queued, listed in the stored answer).</param>
public sealed record IdempotencyRecord(string BodySha256, string State, int? Status, string? Response, DateTimeOffset CreatedAt, DateTimeOffset ClaimedAt)
{
    public const string Pending = "pending";
    public const string Done = "done";
    public const string Partial = "partial";
}

public enum IdempotencyVerdict
{
    /// <summary>Run the request (fresh, expired, a partial answer to complete, or an abandoned claim to take over).</summary>
    Run,

    /// <summary>Answer the stored response; queue nothing.</summary>
    Replay,

    /// <summary>The same key with another body: 422.</summary>
    Mismatch,

    /// <summary>Another request with this key is running: 409.</summary>
    InProgress,
}

/// <summary>
/// What a request with an <c>Idempotency-Key</c> does given the stored record (pure; the stores run it inside the
/// transaction that read the record, so two nodes never both decide <see cref="IdempotencyVerdict.Run"/> for a fresh key).
/// <para>Contract: within the retention (24 h by default) the same key and body answer the first complete result; a
/// 503's answer names the recipients that were queued, and a retry with the same key queues only the others; a claim
/// not completed within the lease (the node died mid-request) may be taken over, and then recipients that node had
/// already queued may be queued again (at least once, as SMTP after a lost 250).</para>
/// </summary>
public static class IdempotencyDecision
{
    public static IdempotencyVerdict Decide(IdempotencyRecord? stored, string bodySha256, DateTimeOffset now, TimeSpan lease, TimeSpan retention)
    {
        if (stored is null || stored.CreatedAt + retention <= now)
        {
            return IdempotencyVerdict.Run;
        }

        if (!string.Equals(stored.BodySha256, bodySha256, StringComparison.Ordinal))
        {
            return IdempotencyVerdict.Mismatch;
        }

        return stored.State switch
        {
            IdempotencyRecord.Done => IdempotencyVerdict.Replay,
            IdempotencyRecord.Pending when stored.ClaimedAt + lease > now => IdempotencyVerdict.InProgress,
            _ => IdempotencyVerdict.Run,
        };
    }
}
