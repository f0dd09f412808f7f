using MailCluster.Edge.Credentials;
using MailCluster.Ops.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace MailCluster.Ops.Credentials;

/// <summary>
/// API keys for applications (role <c>admin</c>), in force on every node within seconds:
/// <list type="bullet">
/// <item><c>POST /api/v1/keys</c> <c>{"name", "senders": ["example.com", "app@example.org"], "scopes": ["smtp", "http"],
/// "rate_per_minute", "daily_quota"}</c>: 201 <c>{"id", "secret", ...}</c>. The secret is shown this once; only its
/// SHA-256 is stored. Limits are optional (absent or null: none); scopes default to both.</item>
/// <item><c>GET /api/v1/keys</c>: <c>{"keys": [...]}</c> without secrets, disabled keys included.</item>
/// <item><c>POST /api/v1/keys/{id}/disable</c> and <c>/enable</c>: a disabled key is refused (535 / 401) but kept.</item>
/// <item><c>DELETE /api/v1/keys/{id}</c>.</item>
/// </list>
/// </summary>
public static class KeyApi
{
    private const string Shape = "{\"name\", \"senders\", \"scopes\", \"rate_per_minute\", \"daily_quota\"}";

    public static IEndpointRouteBuilder MapKeyApi(this IEndpointRouteBuilder endpoints, int opsPort)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/api/v1/keys", CreateAsync).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapGet("/api/v1/keys", (CredentialSet credentials) => Results.Json(new { keys = credentials.Keys.Select(View) })).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapPost("/api/v1/keys/{id}/disable", (string id, HttpContext context, ICredentialStore store, CredentialRefresher refresher, CancellationToken ct) => SetEnabledAsync(id, false, context, store, refresher, ct)).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapPost("/api/v1/keys/{id}/enable", (string id, HttpContext context, ICredentialStore store, CredentialRefresher refresher, CancellationToken ct) => SetEnabledAsync(id, true, context, store, refresher, ct)).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapDelete("/api/v1/keys/{id}", DeleteAsync).RequireOps(opsPort, ApiRole.Admin);
        return endpoints;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, ICredentialStore store, CredentialRefresher refresher, CancellationToken ct)
    {
        var (body, problem) = await JsonFields.ReadObjectAsync(context.Request, Shape, ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var (name, nameProblem) = JsonFields.OptionalString(body, "name");
        if (nameProblem is not null || !JsonFields.IsValidName(name))
        {
            return JsonFields.Bad($"name must be 1 to {JsonFields.MaxNameLength} characters without control characters or surrounding spaces", "name");
        }

        var (senders, sendersProblem) = JsonFields.OptionalStrings(body, "senders");
        if (sendersProblem is not null)
        {
            return sendersProblem;
        }

        if (senders is null || senders.Count == 0)
        {
            return JsonFields.Bad("senders must list at least one address or domain the key may send as", "senders");
        }

        if (JsonFields.CheckSenders(senders, "senders") is { } badSender)
        {
            return badSender;
        }

        var (scopeNames, scopesProblem) = JsonFields.OptionalStrings(body, "scopes");
        var scopes = ApiKeyScopes.None;
        foreach (var s in scopeNames ?? ["smtp", "http"])
        {
            if (ApiKeyScopeNames.Parse(s) is not { } scope)
            {
                return JsonFields.Bad($"scopes may hold \"smtp\" and \"http\", not '{s}'", "scopes");
            }

            scopes |= scope;
        }

        if (scopesProblem is not null || scopes == ApiKeyScopes.None)
        {
            return scopesProblem ?? JsonFields.Bad("scopes must hold \"smtp\", \"http\" or both", "scopes");
        }

        var (rate, rateProblem) = JsonFields.OptionalLimit(body, "rate_per_minute");
        var (daily, dailyProblem) = JsonFields.OptionalLimit(body, "daily_quota");
        if ((rateProblem ?? dailyProblem) is { } badLimit)
        {
            return badLimit;
        }

        var secret = ApiKeySecrets.NewSecret();
        var key = new ApiKey(ApiKeySecrets.NewId(), name!, ApiKeySecrets.Hash(secret), senders, scopes, rate, daily, Enabled: true, DateTimeOffset.UtcNow);
        return await UserApi.WriteAsync(context, refresher, $"key={key.Id} name={key.Name}", async () =>
        {
            await store.CreateKeyAsync(key, ct).ConfigureAwait(false);
            return Results.Json(new Dictionary<string, object?>(View(key)) { ["secret"] = secret }, statusCode: StatusCodes.Status201Created);
        }, ct).ConfigureAwait(false);
    }

    private static async Task<IResult> SetEnabledAsync(string id, bool enabled, HttpContext context, ICredentialStore store, CredentialRefresher refresher, CancellationToken ct) =>
        !ApiKeySecrets.IsKeyId(id) ? NotAnId(id)
        : await UserApi.WriteAsync(context, refresher, $"key={id} enabled={enabled}", async () =>
            await store.SetKeyEnabledAsync(id, enabled, ct).ConfigureAwait(false)
                ? Results.Json(new { id, enabled })
                : ApiProblem.Result(StatusCodes.Status404NotFound, $"no key {id}", "id"), ct).ConfigureAwait(false);

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, ICredentialStore store, CredentialRefresher refresher, CancellationToken ct) =>
        !ApiKeySecrets.IsKeyId(id) ? NotAnId(id)
        : await UserApi.WriteAsync(context, refresher, $"key={id}", async () =>
            await store.DeleteKeyAsync(id, ct).ConfigureAwait(false)
                ? Results.Json(new { id, status = "deleted" })
                : ApiProblem.Result(StatusCodes.Status404NotFound, $"no key {id}", "id"), ct).ConfigureAwait(false);

    private static IResult NotAnId(string id) =>
        ApiProblem.Result(StatusCodes.Status400BadRequest, $"'{id}' is not a key id ({ApiKeySecrets.IdPrefix} and 16 lower-case hex digits)", "id");

    private static Dictionary<string, object?> View(ApiKey k) => new()
    {
        ["id"] = k.Id,
        ["name"] = k.Name,
        ["senders"] = k.Senders,
        ["scopes"] = ApiKeyScopeNames.Names(k.Scopes),
        ["rate_per_minute"] = k.RatePerMinute,
        ["daily_quota"] = k.DailyQuota,
        ["enabled"] = k.Enabled,
        ["created_at"] = k.CreatedAt,
    };
}
