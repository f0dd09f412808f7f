using MailCluster.Edge.Credentials;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace MailCluster.Ops.Credentials;

/// <summary>The users and keys routes, on nodes with the credentials feature (<see cref="CredentialsHosting.AddCredentials"/>).</summary>
public static class CredentialsApi
{
    public static IEndpointRouteBuilder MapCredentialsApi(this IEndpointRouteBuilder endpoints, int opsPort)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.ServiceProvider.GetService<CredentialSet>() is null
            ? endpoints
            : endpoints.MapUserApi(opsPort).MapKeyApi(opsPort);
    }
}
