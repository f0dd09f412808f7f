using MailCluster.Queue.Suspensions;
using Microsoft.Extensions.DependencyInjection;

namespace MailCluster.Ops.Suspensions;

/// <summary>The destination-suspension feature: its store in the cluster database, the node's
/// <see cref="SuspensionSet"/> (read by the domain queues through QueueServices) and its refresher. Routes:
/// <see cref="SuspensionApi"/>.</summary>
public static class SuspensionHosting
{
    /// <param name="postgres">True for the shared PostgreSQL of a cluster, false for the embedded SQLite default.</param>
    /// <param name="connectionString">The Npgsql connection string (PostgreSQL only).</param>
    /// <param name="dataDir">The node's data directory (the SQLite access database).</param>
    public static IServiceCollection AddSuspensions(this IServiceCollection services, bool postgres, string? connectionString, string dataDir)
    {
        services.AddSingleton(_ => SuspensionStoreFactory.Create(postgres, connectionString ?? "", dataDir));
        services.AddSingleton(new SuspensionSet(loaded: false));
        services.AddSingleton<SuspensionRefresher>();
        services.AddHostedService(sp => sp.GetRequiredService<SuspensionRefresher>());
        return services;
    }
}
