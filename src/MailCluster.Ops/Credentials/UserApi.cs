using System.Data.Common;
using MailCluster.Edge;
using MailCluster.Edge.Auth;
using MailCluster.Edge.Credentials;
using MailCluster.Ops.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace MailCluster.Ops.Credentials;

/// <summary>
/// Runtime SMTP AUTH users (role <c>admin</c>), in force on every node within seconds, no restart:
/// <list type="bullet">
/// <item><c>GET /api/v1/users</c>: <c>{"users": [{"name", "allowed_senders", "source", "created_at", "updated_at"}]}</c>,
/// runtime users and (source <c>configuration</c>) configured ones; never a hash.</item>
/// <item><c>POST /api/v1/users</c> <c>{"name", "password", "allowed_senders"}</c>: 201; 409 when the name exists
/// (at run time or in configuration: configuration wins, see <see cref="UserDirectory"/>).</item>
/// <item><c>PUT /api/v1/users/{name}</c> <c>{"password", "allowed_senders"}</c> (both), <c>PATCH</c> (either): 200; 404
/// for an unknown runtime user, 409 for a configured one (change it in configuration).</item>
/// <item><c>DELETE /api/v1/users/{name}</c>: 200, or 404.</item>
/// </list>
/// Passwords are hashed with PBKDF2 (<see cref="PasswordHasher"/>) before they reach the database. A database that
/// cannot be written answers 503.
/// </summary>
public static class UserApi
{
    public const int MaxPasswordLength = 1_024;
    private const string Shape = "{\"name\", \"password\", \"allowed_senders\"}";

    public static IEndpointRouteBuilder MapUserApi(this IEndpointRouteBuilder endpoints, int opsPort)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/api/v1/users", List).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapPost("/api/v1/users", CreateAsync).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapPut("/api/v1/users/{name}", (string name, HttpContext context, IServiceProvider sp, CancellationToken ct) => UpdateAsync(name, context, sp, replace: true, ct)).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapPatch("/api/v1/users/{name}", (string name, HttpContext context, IServiceProvider sp, CancellationToken ct) => UpdateAsync(name, context, sp, replace: false, ct)).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapDelete("/api/v1/users/{name}", DeleteAsync).RequireOps(opsPort, ApiRole.Admin);
        return endpoints;
    }

    private static IResult List(CredentialSet credentials, IServiceProvider sp) => Results.Json(new
    {
        users = Configured(sp).Select(u => new { name = u.Name, allowed_senders = u.AllowedSenders, source = "configuration", created_at = (DateTimeOffset?)null, updated_at = (DateTimeOffset?)null })
            .Concat(credentials.Users.Select(u => new { name = u.Name, allowed_senders = u.AllowedSenders, source = "runtime", created_at = (DateTimeOffset?)u.CreatedAt, updated_at = (DateTimeOffset?)u.UpdatedAt })),
    });

    private static async Task<IResult> CreateAsync(HttpContext context, ICredentialStore store, CredentialRefresher refresher, IServiceProvider sp, CancellationToken ct)
    {
        var (body, problem) = await JsonFields.ReadObjectAsync(context.Request, Shape, ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var (name, nameProblem) = JsonFields.OptionalString(body, "name");
        if (nameProblem is not null || !JsonFields.IsValidName(name) || name!.StartsWith(ApiKeySecrets.IdPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return JsonFields.Bad($"name must be 1 to {JsonFields.MaxNameLength} characters without control characters or surrounding spaces, not starting with '{ApiKeySecrets.IdPrefix}' (API key ids)", "name");
        }

        var (password, passwordProblem) = ReadPassword(body, required: true);
        var (senders, sendersProblem) = ReadSenders(body, required: false);
        if ((passwordProblem ?? sendersProblem) is { } bad)
        {
            return bad;
        }

        if (IsConfigured(sp, name))
        {
            return ApiProblem.Result(StatusCodes.Status409Conflict, $"user '{name}' is configured (MailCluster:Smtp:Users); configuration wins, so a runtime user of that name could never log in", "name");
        }

        var now = DateTimeOffset.UtcNow;
        var user = new RuntimeUser(name, PasswordHasher.Hash(password!), senders ?? [], now, now);
        return await WriteAsync(context, refresher, $"user={name}", async () =>
            await store.CreateUserAsync(user, ct).ConfigureAwait(false)
                ? Results.Json(View(user), statusCode: StatusCodes.Status201Created)
                : ApiProblem.Result(StatusCodes.Status409Conflict, $"user '{name}' exists (names are case-insensitive)", "name"), ct).ConfigureAwait(false);
    }

    private static async Task<IResult> UpdateAsync(string name, HttpContext context, IServiceProvider sp, bool replace, CancellationToken ct)
    {
        var store = sp.GetRequiredService<ICredentialStore>();
        var refresher = sp.GetRequiredService<CredentialRefresher>();
        var (body, problem) = await JsonFields.ReadObjectAsync(context.Request, "{\"password\", \"allowed_senders\"}", ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var (password, passwordProblem) = ReadPassword(body, required: replace);
        var (senders, sendersProblem) = ReadSenders(body, required: replace);
        if ((passwordProblem ?? sendersProblem) is { } bad)
        {
            return bad;
        }

        if (password is null && senders is null)
        {
            return JsonFields.Bad("nothing to change: give password, allowed_senders or both", "body");
        }

        if (IsConfigured(sp, name))
        {
            return ApiProblem.Result(StatusCodes.Status409Conflict, $"user '{name}' is configured (MailCluster:Smtp:Users); change it in configuration", "name");
        }

        // The current row, read from the database (not the 2 s copy), so that a PATCH keeps what it does not change.
        var current = (await store.ListUsersAsync(ct).ConfigureAwait(false)).FirstOrDefault(u => string.Equals(u.Name, name, StringComparison.OrdinalIgnoreCase));
        if (current is null)
        {
            return ApiProblem.Result(StatusCodes.Status404NotFound, $"no runtime user '{name}'", "name");
        }

        var updated = current with
        {
            PasswordHash = password is null ? current.PasswordHash : PasswordHasher.Hash(password),
            AllowedSenders = senders ?? current.AllowedSenders,
            UpdatedAt = DateTimeOffset.UtcNow,
        };
        return await WriteAsync(context, refresher, $"user={current.Name} password={(password is null ? "kept" : "changed")}", async () =>
            await store.UpdateUserAsync(updated, ct).ConfigureAwait(false)
                ? Results.Json(View(updated))
                : ApiProblem.Result(StatusCodes.Status404NotFound, $"no runtime user '{name}'", "name"), ct).ConfigureAwait(false);
    }

    private static async Task<IResult> DeleteAsync(string name, HttpContext context, ICredentialStore store, CredentialRefresher refresher, IServiceProvider sp, CancellationToken ct)
    {
        if (IsConfigured(sp, name))
        {
            return ApiProblem.Result(StatusCodes.Status409Conflict, $"user '{name}' is configured (MailCluster:Smtp:Users); remove it from configuration", "name");
        }

        return await WriteAsync(context, refresher, $"user={name}", async () =>
            await store.DeleteUserAsync(name, ct).ConfigureAwait(false)
                ? Results.Json(new { name, status = "removed" })
                : ApiProblem.Result(StatusCodes.Status404NotFound, $"no runtime user '{name}'", "name"), ct).ConfigureAwait(false);
    }

    /// <summary>Runs a database write; 503 when the database cannot be written; then refreshes this node's copy.</summary>
    internal static async Task<IResult> WriteAsync(HttpContext context, CredentialRefresher refresher, string audit, Func<Task<IResult>> write, CancellationToken ct)
    {
        IResult result;
        try
        {
            result = await write().ConfigureAwait(false);
        }
        catch (DbException ex)
        {
            return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, $"the credential store cannot be written: {ex.Message}");
        }

        await refresher.RefreshAsync(ct).ConfigureAwait(false);
        context.Items[ApiAccessMiddleware.AuditTargetKey] = audit;
        return result;
    }

    private static object View(RuntimeUser u) => new { name = u.Name, allowed_senders = u.AllowedSenders, source = "runtime", created_at = u.CreatedAt, updated_at = u.UpdatedAt };

    private static (string? Password, IResult? Problem) ReadPassword(System.Text.Json.JsonElement body, bool required)
    {
        var (password, problem) = JsonFields.OptionalString(body, "password");
        return problem is null && (password is null ? !required : password.Length is > 0 and <= MaxPasswordLength && !password.Contains('\0', StringComparison.Ordinal))
            ? (password, null)
            : (null, JsonFields.Bad($"password must be a string of 1 to {MaxPasswordLength} characters without NUL", "password"));
    }

    private static (IReadOnlyList<string>? Senders, IResult? Problem) ReadSenders(System.Text.Json.JsonElement body, bool required)
    {
        var (senders, problem) = JsonFields.OptionalStrings(body, "allowed_senders");
        if (problem is not null)
        {
            return (null, problem);
        }

        if (senders is null)
        {
            return required ? (null, JsonFields.Bad("allowed_senders is required (an array; [] allows no sender)", "allowed_senders")) : (null, null);
        }

        return JsonFields.CheckSenders(senders, "allowed_senders") is { } bad ? (null, bad) : (senders, null);
    }

    private static bool IsConfigured(IServiceProvider sp, string name) => sp.GetService<EdgeServices>()?.Users.IsConfigured(name) == true;

    private static IEnumerable<SmtpUser> Configured(IServiceProvider sp) => sp.GetService<EdgeServices>()?.Users.Configured ?? [];
}
