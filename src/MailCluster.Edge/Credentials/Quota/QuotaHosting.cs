using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace MailCluster.Edge.Credentials.Quota;

/// <summary>
/// The cluster-wide key quotas: <see cref="AddQuotaGate"/> registers <see cref="IQuotaGate"/> (the edge and the HTTP
/// injection API take it); <see cref="WithKeyQuotas"/> starts the key-quota region on every node (no role: any node
/// may hold a counter) with its serializer.
/// </summary>
public static class QuotaHosting
{
    /// <summary>How long a sender waits for the key's counter before the answer is "try later".</summary>
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddQuotaGate(this IServiceCollection services) =>
        services.AddSingleton<IQuotaGate>(sp =>
        {
            var registry = sp.GetRequiredService<IRequiredActor<KeyQuotaRegion>>();
            return new ShardedQuotaGate(sp.GetRequiredService<CredentialSet>(), () => registry.ActorRef, AskTimeout);
        });

    public static AkkaConfigurationBuilder WithKeyQuotas(this AkkaConfigurationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .WithCustomSerializer("mailcluster-quota", [typeof(IQuotaMessage)], system => new QuotaSerializer(system))
            .WithShardRegion<KeyQuotaRegion>(
                "key-quota",
                _ => KeyQuotaEntity.Props(TimeProvider.System),
                new KeyQuotaMessageExtractor(),
                new ShardOptions
                {
                    // Passivation would drop the day's count (the entity is not persisted): counters stay while the node runs.
                    ShouldPassivateIdleEntities = false,
                    RememberEntities = false,
                    StateStoreMode = StateStoreMode.DData,
                });
    }
}
