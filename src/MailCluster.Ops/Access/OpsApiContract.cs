using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;

namespace MailCluster.Ops.Access;

/// <summary>The API's OpenAPI document, served at <c>GET /api/v1/openapi.json</c> (role <c>read</c>): every route under
/// <c>/api/</c>, the bearer scheme they all require, and on each operation the least role it needs.</summary>
public static class OpsApiContract
{
    public const string DocumentName = "v1";
    public const string Route = "/api/v1/openapi.json";
    private const string Scheme = "bearer";

    internal static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "MailCluster ops API";
            document.Info.Description = "Every /api/ route needs 'Authorization: Bearer <token>'; roles read < operate < admin. Errors are RFC 7807 problem details.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
            document.Components.SecuritySchemes[Scheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API token (mct_...), created with POST /api/v1/tokens or read from the admin token file.",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Scheme, document)] = [] }];
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var role = context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiRoleMetadata>().FirstOrDefault()?.Role ?? ApiRole.Admin;
            operation.Description = $"Needs a token of role '{role.Name()}' or above: 401 without a valid token, 403 with a lower role.";
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
