using Akka.Actor;

namespace MailCluster.Edge.Credentials.Quota;

/// <summary>
/// <see cref="IQuotaGate"/> over the key-quota region: reads the key's current limits from this node's
/// <see cref="CredentialSet"/> and asks the key's entity. A key without limits passes without a round trip. No answer
/// within <paramref name="timeout"/> is <see cref="QuotaOutcome.Unavailable"/> (a temporary refusal): mail is never
/// sent unmetered because the counter is moving.
/// </summary>
public sealed class ShardedQuotaGate(CredentialSet credentials, Func<IActorRef> region, TimeSpan timeout) : IQuotaGate
{
    public async ValueTask<QuotaDecision> TryConsumeAsync(string keyId, int messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentOutOfRangeException.ThrowIfLessThan(messages, 1);
        if (credentials.FindKey(keyId) is not { } key)
        {
            return new QuotaDecision(QuotaOutcome.UnknownKey, TimeSpan.Zero, $"no key {keyId}");
        }

        if (!key.IsLimited)
        {
            return QuotaDecision.Allow;
        }

        try
        {
            var reply = await region().Ask<QuotaReply>(new ConsumeQuota(key.Id, messages, key.RatePerMinute, key.DailyQuota), timeout, cancellationToken).ConfigureAwait(false);
            return reply.Outcome == QuotaOutcome.Allowed
                ? QuotaDecision.Allow
                : new QuotaDecision(reply.Outcome, TimeSpan.FromMilliseconds(reply.RetryAfterMilliseconds), reply.Reason);
        }
        catch (AskTimeoutException)
        {
            return new QuotaDecision(QuotaOutcome.Unavailable, TimeSpan.FromSeconds(5), "the key's quota counter did not answer in time");
        }
    }
}
