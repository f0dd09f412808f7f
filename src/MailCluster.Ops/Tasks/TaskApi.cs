using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using MailCluster.Ops.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace MailCluster.Ops.Tasks;

/// <summary>
/// Bulk bounce and delete by filter as asynchronous, persisted, cluster-wide tasks (issue 14; Apache James' /tasks):
/// <list type="bullet">
/// <item><c>POST /api/v1/tasks</c> (admin) with <c>{"action":"bounce|delete","domain","sender","recipient","older_than_seconds"}</c>
/// (at least one condition): 202 with the task; it runs on this node (<see cref="BulkTaskRunner"/>).</item>
/// <item><c>GET /api/v1/tasks/{id}</c> (read): state, the count done and skipped, owner, resumptions.</item>
/// <item><c>GET /api/v1/tasks</c> (read): the 50 most recent.</item>
/// </list>
/// </summary>
public static class TaskApi
{
    /// <summary>How long a POST waits for the runner to know this node's name (see <see cref="BulkTaskRunner.OwnerAsync"/>).</summary>
    private static readonly TimeSpan OwnerWait = TimeSpan.FromSeconds(10);

    private const int MaxAddressLength = 320;
    private const int ListLimit = 50;

    public static IEndpointRouteBuilder MapTaskApi(this IEndpointRouteBuilder endpoints, int opsPort)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/api/v1/tasks", CreateAsync).RequireOps(opsPort, ApiRole.Admin);
        endpoints.MapGet("/api/v1/tasks/{id}", async (string id, ITaskStore store, CancellationToken ct) =>
            await store.GetAsync(id, ct).ConfigureAwait(false) is { } task
                ? Results.Json(TaskView.Of(task))
                : ApiProblem.Result(StatusCodes.Status404NotFound, $"no task {id}", "id")).RequireOps(opsPort, ApiRole.Read);
        endpoints.MapGet("/api/v1/tasks", async (ITaskStore store, CancellationToken ct) =>
            Results.Json(new { tasks = (await store.ListAsync(ListLimit, ct).ConfigureAwait(false)).Select(TaskView.Of) })).RequireOps(opsPort, ApiRole.Read);
        return endpoints;
    }

    /// <summary>The task a request body asks for, or the problem naming the bad field.</summary>
    public static (BulkAction Action, BulkTaskFilter? Filter, string? Problem, string? Field) Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return (default, null, "the body must be a JSON object", "body");
        }

        var action = TaskRows.ParseAction(String(body, "action"));
        if (action is not { } a)
        {
            return (default, null, "action must be 'bounce' or 'delete'", "action");
        }

        string? domain = null;
        if (String(body, "domain") is { } domainText)
        {
            (domain, var problem) = QueueApi.ParseDomain(domainText);
            if (domain is null)
            {
                return (a, null, problem, "domain");
            }
        }

        var sender = String(body, "sender");
        if (sender is { Length: > MaxAddressLength })
        {
            return (a, null, $"sender is longer than {MaxAddressLength} characters", "sender");
        }

        var recipient = String(body, "recipient");
        if (recipient is not null && (recipient.Length > MaxAddressLength || recipient.LastIndexOf('@') is var at && (at < 1 || Queue.DomainKey.TryNormalize(recipient[(at + 1)..]) is null)))
        {
            return (a, null, $"recipient '{recipient}' is not an address (local@domain)", "recipient");
        }

        long? olderThan = null;
        if (body.TryGetProperty("older_than_seconds", out var age) && age.ValueKind != JsonValueKind.Null)
        {
            if (age.ValueKind != JsonValueKind.Number || !age.TryGetInt64(out long seconds) || seconds < 0)
            {
                return (a, null, "older_than_seconds must be a whole number of seconds from 0", "older_than_seconds");
            }

            olderThan = seconds;
        }

        if (domain is null && sender is null && recipient is null && olderThan is null)
        {
            return (a, null, "give at least one condition: domain, sender, recipient or older_than_seconds (older_than_seconds 0 matches every message)", "body");
        }

        return (a, new BulkTaskFilter(domain, sender, recipient, olderThan), null, null);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, ITaskStore store, BulkTaskRunner runner, CancellationToken ct)
    {
        JsonElement body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, $"the body is not JSON: {ex.Message}", "body");
        }

        var (action, filter, problem, field) = Parse(body);
        if (filter is null)
        {
            return ApiProblem.Result(StatusCodes.Status400BadRequest, problem!, field);
        }

        try
        {
            // The runner learns the node's name once the node is Up and polls every 2 s: a node that just became ready
            // may not have it yet, so wait a little before telling the caller to come back.
            await runner.OwnerAsync.WaitAsync(OwnerWait, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return ApiProblem.Result(StatusCodes.Status503ServiceUnavailable, "this node has not joined the cluster yet; try again");
        }

        var now = DateTimeOffset.UtcNow;
        var by = context.Items[ApiAccessMiddleware.IdentityKey] is TokenIdentity me ? $"{me.Name} ({me.Id})" : "-";
        var task = new BulkTask(
            "task-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            action,
            filter,
            BulkTaskStates.Running,
            0,
            0,
            await runner.OwnerAsync.ConfigureAwait(false),
            0,
            now,
            now,
            by,
            null);
        await store.CreateAsync(task, ct).ConfigureAwait(false);
        context.Items[ApiAccessMiddleware.AuditTargetKey] = $"task={task.Id} action={TaskRows.ActionName(action)} filter={TaskRows.FilterJson(filter)}";
        runner.Start(task);
        return Results.Json(TaskView.Of(task), statusCode: StatusCodes.Status202Accepted);
    }

    private static string? String(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

public sealed record TaskFilterView(
    string? Domain,
    string? Sender,
    string? Recipient,
    [property: JsonPropertyName("older_than_seconds")] long? OlderThanSeconds);

public sealed record TaskView(
    string Id,
    string Action,
    TaskFilterView Filter,
    string State,
    long Done,
    long Skipped,
    string Owner,
    int Resumed,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string CreatedBy,
    string? Error)
{
    public static TaskView Of(BulkTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return new TaskView(
            task.Id,
            TaskRows.ActionName(task.Action),
            new TaskFilterView(task.Filter.Domain, task.Filter.Sender, task.Filter.Recipient, task.Filter.OlderThanSeconds),
            task.State,
            task.Done,
            task.Skipped,
            task.Owner,
            task.Resumed,
            task.CreatedAt,
            task.UpdatedAt,
            task.CreatedBy,
            task.Error);
    }
}

/// <summary>Hosting of the bulk tasks: the store of the configured provider and the runner.</summary>
public static class BulkTaskHosting
{
    /// <param name="postgres">True for the shared PostgreSQL of a cluster, false for the embedded SQLite default.</param>
    public static IServiceCollection AddBulkTasks(this IServiceCollection services, bool postgres, string? connectionString, string dataDir)
    {
        services.AddSingleton(_ => TaskStoreFactory.Create(postgres, connectionString ?? "", dataDir));
        services.AddSingleton<BulkTaskRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<BulkTaskRunner>());
        return services;
    }
}
