using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;

namespace MailCluster.Ops.Access;

/// <summary>The API's OpenAPI document, served at <c>GET /api/v1/openapi.json</c> (role <c>read</c>).</summary>
public static class OpsApiContract
{
    public const string DocumentName = "v1";
    public const string Route = "/api/v1/openapi.json";

    internal static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "MailCluster ops API";
            document.Info.Description = "Every /api/ route needs 'Authorization: Bearer <token>'; roles read < operate < admin. Errors are RFC 7807 problem details.";
            return Task.CompletedTask;
        });
        // Only the ops API belongs in the document (not the dashboard, health or metrics).
        options.ShouldInclude = description => description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
    }

    public static IEndpointRouteBuilder MapOpsApiContract(this IEndpointRouteBuilder endpoints, int opsPort)
    {
        endpoints.MapOpenApi(Route).RequireOps(opsPort, ApiRole.Read);
        return endpoints;
    }
}
