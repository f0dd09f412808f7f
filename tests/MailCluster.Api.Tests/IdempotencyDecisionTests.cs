using Xunit;
using MailCluster.Api.Idempotency;

namespace MailCluster.Api.Tests;

public sealed class IdempotencyDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    private static IdempotencyVerdict Decide(IdempotencyRecord? stored, string hash = "h") => IdempotencyDecision.Decide(stored, hash, Now, Lease, Retention);

    private static IdempotencyRecord Record(string state, TimeSpan age, TimeSpan claimedAgo, string hash = "h") =>
        new(hash, state, state == IdempotencyRecord.Pending ? null : 200, "{}", Now - age, Now - claimedAgo);

    [Fact]
    public void WholeTable()
    {
        Assert.Equal(IdempotencyVerdict.Run, Decide(null));
        Assert.Equal(IdempotencyVerdict.Replay, Decide(Record(IdempotencyRecord.Done, TimeSpan.FromHours(23), TimeSpan.FromHours(23))));
        Assert.Equal(IdempotencyVerdict.Run, Decide(Record(IdempotencyRecord.Done, TimeSpan.FromHours(24), TimeSpan.FromHours(24))));
        Assert.Equal(IdempotencyVerdict.Mismatch, Decide(Record(IdempotencyRecord.Done, TimeSpan.FromHours(1), TimeSpan.FromHours(1)), "other"));
        Assert.Equal(IdempotencyVerdict.Run, Decide(Record(IdempotencyRecord.Done, TimeSpan.FromHours(25), TimeSpan.FromHours(25)), "other"));
        Assert.Equal(IdempotencyVerdict.InProgress, Decide(Record(IdempotencyRecord.Pending, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1))));
        Assert.Equal(IdempotencyVerdict.Run, Decide(Record(IdempotencyRecord.Pending, TimeSpan.FromMinutes(6), TimeSpan.FromMinutes(5))));
        Assert.Equal(IdempotencyVerdict.Run, Decide(Record(IdempotencyRecord.Partial, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1))));
    }
}
