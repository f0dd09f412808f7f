using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailCluster.Ops.Access;

/// <summary>Hosting of the ops API's access control: the token store of the configured provider, its refresher,
/// the bad-token throttle, port matching, problem details and the OpenAPI document.</summary>
public static class OpsAccessExtensions
{
    /// <param name="ops">The ops options (port, admin token file).</param>
    /// <param name="postgres">True for the shared PostgreSQL of a cluster, false for the embedded SQLite default.</param>
    /// <param name="connectionString">The Npgsql connection string (PostgreSQL only).</param>
    /// <param name="dataDir">The node's data directory (SQLite file, generated admin token file).</param>
    public static IServiceCollection AddOpsAccess(this IServiceCollection services, OpsOptions ops, bool postgres, string? connectionString, string dataDir)
    {
        ArgumentNullException.ThrowIfNull(ops);
        var file = !string.IsNullOrEmpty(ops.AdminTokenFile)
            ? new AdminTokenSource(Path.GetFullPath(ops.AdminTokenFile), Generate: false)
            : postgres
                ? new AdminTokenSource(null, Generate: false)
                : new AdminTokenSource(Path.Combine(Path.GetFullPath(dataDir), AdminTokenFile.DefaultFileName), Generate: true);
        services.AddSingleton(_ => TokenStoreFactory.Create(postgres, connectionString ?? "", dataDir));
        services.AddSingleton<TokenSet>();
        services.AddSingleton(file);
        services.AddSingleton<TokenRefresher>();
        services.AddHostedService(sp => sp.GetRequiredService<TokenRefresher>());
        services.AddSingleton(new BadTokenThrottle(TimeProvider.System));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, LocalPortMatcherPolicy>());
        services.AddProblemDetails();
        services.AddOpenApi(OpsApiContract.DocumentName, OpsApiContract.Configure);
        return services;
    }

    /// <summary>Adds the access check (<see cref="ApiAccessMiddleware"/>); it runs after routing, which the web
    /// application places first. An exception no handler caught (a database that went away mid-request) is answered
    /// with a 500 problem, never a stack trace.</summary>
    public static IApplicationBuilder UseOpsAccess(this IApplicationBuilder app) =>
        app.UseExceptionHandler().UseMiddleware<ApiAccessMiddleware>();
}
