using Akka.Actor;
using Akka.Cluster.Sharding;

namespace MailCluster.Edge.Credentials.Quota;

/// <summary>The region of <see cref="KeyQuotaEntity"/>, for the actor registry.</summary>
public sealed class KeyQuotaRegion;

/// <summary>
/// One API key's <see cref="QuotaCounter"/>: the one place the key's sending is counted, whichever node the messages
/// arrive on. A thin shell: it applies the pure counter and replies. Not persisted, deliberately: on a failover (the
/// node holding it leaves or dies) the entity starts again elsewhere with an empty counter, so in that minute and day
/// the key may send up to one more allowance. Quotas here are a fairness and abuse limit, not billing; one extra
/// allowance per node failure is the price of not writing to the database on every message.
/// </summary>
public sealed class KeyQuotaEntity : ReceiveActor
{
    private QuotaCounter _counter = QuotaCounter.Empty;

    public KeyQuotaEntity(TimeProvider clock)
    {
        Receive<ConsumeQuota>(request =>
        {
            var (decision, next) = _counter.TryConsume(clock.GetUtcNow(), request.Messages, request.RatePerMinute, request.DailyQuota);
            _counter = next;
            Sender.Tell(new QuotaReply(decision.Outcome, (long)decision.RetryAfter.TotalMilliseconds, decision.Reason));
        });
    }

    public static Props Props(TimeProvider clock) => Akka.Actor.Props.Create(() => new KeyQuotaEntity(clock));
}

/// <summary>Routes <see cref="ConsumeQuota"/> to the entity named by its key id.</summary>
public sealed class KeyQuotaMessageExtractor() : HashCodeMessageExtractor(MaxShards)
{
    public const int MaxShards = 64;

    public override string? EntityId(object message) => (message as ConsumeQuota)?.KeyId;
}
