using Microsoft.Extensions.DependencyInjection;

namespace MailCluster.Edge.Credentials;

/// <summary>
/// The runtime-credentials feature (STYLE habit 6): the store of the configured provider, the in-memory
/// <see cref="CredentialSet"/> (also registered as <see cref="IApiKeyVerifier"/>, which the HTTP injection API takes)
/// and its refresher. The edge's user directory picks the set up from DI when it is registered.
/// </summary>
public static class CredentialsHosting
{
    /// <param name="postgres">True for the shared PostgreSQL of a cluster, false for the embedded SQLite default.</param>
    /// <param name="connectionString">The Npgsql connection string (PostgreSQL only).</param>
    /// <param name="dataDir">The node's data directory (the SQLite file).</param>
    public static IServiceCollection AddCredentials(this IServiceCollection services, bool postgres, string? connectionString, string dataDir)
    {
        services.AddSingleton(_ => CredentialStoreFactory.Create(postgres, connectionString ?? "", dataDir));
        services.AddSingleton<CredentialSet>();
        services.AddSingleton<IApiKeyVerifier>(sp => sp.GetRequiredService<CredentialSet>());
        services.AddSingleton<CredentialRefresher>();
        services.AddHostedService(sp => sp.GetRequiredService<CredentialRefresher>());
        return services;
    }
}
