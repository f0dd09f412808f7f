using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;

namespace MailCluster.Ops.Access;

/// <summary>The route answers only on connections accepted on <see cref="Port"/> (the ops listener).</summary>
public sealed record LocalPortMetadata(int Port);

/// <summary>The least role an <c>/api/</c> route needs. A route under <c>/api/</c> without it needs <see cref="ApiRole.Admin"/>.</summary>
public sealed record ApiRoleMetadata(ApiRole Role);

public static class OpsRouting
{
    /// <summary>
    /// Matches the route on the port the connection was accepted on, not on the Host header (<c>RequireHost</c> made
    /// every ops route answer 404 through <c>kubectl port-forward 8081:8080</c>, a Service on port 80 or an ingress).
    /// </summary>
    public static TBuilder RequireLocalPort<TBuilder>(this TBuilder builder, int port)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new LocalPortMetadata(port));

    /// <summary>An ops API route: on the ops port, for a bearer token of <paramref name="role"/> or above.</summary>
    public static TBuilder RequireOps<TBuilder>(this TBuilder builder, int port, ApiRole role)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new LocalPortMetadata(port), new ApiRoleMetadata(role));
}

/// <summary>Drops candidate endpoints whose <see cref="LocalPortMetadata"/> names another port than the connection's.</summary>
internal sealed class LocalPortMatcherPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    public override int Order => -1000;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) =>
        endpoints.Any(e => e.Metadata.GetMetadata<LocalPortMetadata>() is not null);

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        int port = httpContext.Connection.LocalPort;
        for (int i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i) && candidates[i].Endpoint.Metadata.GetMetadata<LocalPortMetadata>() is { } metadata && metadata.Port != port)
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }
}
