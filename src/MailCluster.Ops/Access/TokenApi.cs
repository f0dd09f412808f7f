using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace MailCluster.Ops.Access;

/// <summary>
/// Token administration (role <c>admin</c>):
/// <list type="bullet">
/// <item><c>POST /api/v1/tokens</c> with <c>{"name": "...", "role": "read|operate|admin"}</c> answers 201
/// <c>{"id", "token", "name", "role"}</c>: the secret is shown this once and never stored.</item>
/// <item><c>GET /api/v1/tokens</c>: <c>{"tokens": [{"id", "name", "role", "createdAt"}]}</c>, never a secret.</item>
/// <item><c>DELETE /api/v1/tokens/{id}</c>: revoked on every node within seconds; 404 for an unknown id; 409 for the
/// admin token file's token (change the file instead).</item>
/// </list>
/// A database that cannot be written answers 503. And <c>GET /api/v1/tokens/current</c> (any role): the caller's own token, so a client (the dashboard) can tell
/// which actions to offer.
/// </summary>
public static class TokenApi
{
    public const int MaxNameLength = 100;

    public static IEndpointRouteBuilder MapTokenApi(this IEndpointRouteBuilder endpoints, int opsPort)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/api/v1/tokens", CreateAsync).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapGet("/api/v1/tokens", (TokenSet tokens) => Results.Json(new
        {
            tokens = tokens.List().Select(t => new { id = t.Id, name = t.Name, role = t.Role.Name(), createdAt = t.CreatedAt == DateTimeOffset.MinValue ? (DateTimeOffset?)null : t.CreatedAt }),
        })).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapGet("/api/v1/tokens/current", (HttpContext context) =>
            context.Items[ApiAccessMiddleware.IdentityKey] is TokenIdentity me
                ? Results.Json(new { id = me.Id, name = me.Name, role = me.Role.Name() })
                : ApiProblem.Result(StatusCodes.Status401Unauthorized, "no token", "Authorization")).RequireOps(opsPort, ApiRole.Read);
        endpoints.MapDelete("/api/v1/tokens/{id}", RevokeAsync).RequireOps(opsPort, ApiRole.Admin);
        return endpoints;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, ITokenStore store, TokenRefresher refresher, CancellationToken ct)
    {
        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: ct).ConfigureAwait(false);
            body = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, $"the body must be a JSON object {{\"name\", \"role\"}}: {ex.Message}", "body");
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, "the body must be a JSON object {\"name\", \"role\"}", "body");
        }

        var name = body.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : null;
        if (name is null || name.Length is 0 or > MaxNameLength || name.Any(char.IsControl) || name.Trim().Length != name.Length)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, $"name must be a string of 1 to {MaxNameLength} characters, no control characters or surrounding spaces", "name");
        }

        var roleText = body.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        if (ApiRoles.Parse(roleText) is not { } role)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, "role must be one of \"read\", \"operate\", \"admin\"", "role");
        }

        var secret = ApiTokens.NewSecret();
        var token = new StoredToken(ApiTokens.NewId(), name, role, ApiTokens.Hash(secret), DateTimeOffset.UtcNow);
        try
        {
            await store.CreateAsync(token, ct).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"the token store cannot be written: {ex.Message}");
        }

        await refresher.RefreshAsync(ct).ConfigureAwait(false);
        context.Items[ApiAccessMiddleware.AuditTargetKey] = $"token={token.Id} name={token.Name} role={role.Name()}";
        return Results.Json(new { id = token.Id, token = secret, name, role = role.Name() }, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> RevokeAsync(string id, ITokenStore store, TokenRefresher refresher, CancellationToken ct)
    {
        if (id == TokenSet.FileTokenId)
        {
            return ApiProblem.Result(StatusCodes.Status409Conflict, "the admin token file's token is revoked by changing or removing the file (MailCluster:Ops:AdminTokenFile)", "id");
        }

        if (id.Length > 64 || !id.All(char.IsAsciiHexDigitLower))
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, $"'{id}' is not a token id (lower-case hex digits)", "id");
        }

        bool revoked;
        try
        {
            revoked = await store.RevokeAsync(id, ct).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"the token store cannot be written: {ex.Message}");
        }

        if (!revoked)
        {
            return ApiProblem.Result(StatusCodes.Status404NotFound, $"no token {id} is in force", "id");
        }

        await refresher.RefreshAsync(ct).ConfigureAwait(false);
        return Results.Json(new { id, status = "revoked" });
    }
}
