using System.ComponentModel;
using System.Text.Json;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public sealed class HoldSettings : GlobalSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("Queue id of the message (the one in \"250 2.0.0 Ok: queued as <id>\"); its domains are found by the node")]
    public string Id { get; init; } = "";
}

/// <summary><c>message hold ID</c>: POST /api/v1/messages/{id}/hold (role operate): never attempted, never expiring,
/// until released.</summary>
public sealed class MessageHoldCommand : ApiCommand<HoldSettings>
{
    protected override Task<int> RunAsync(ApiClient api, Output output, HoldSettings settings, CancellationToken ct) =>
        HoldAction.RunAsync(api, output, $"api/v1/messages/{Segment(settings.Id)}/hold", ct);
}

/// <summary><c>message release ID</c>: POST /api/v1/messages/{id}/release (role operate).</summary>
public sealed class MessageReleaseCommand : ApiCommand<HoldSettings>
{
    protected override Task<int> RunAsync(ApiClient api, Output output, HoldSettings settings, CancellationToken ct) =>
        HoldAction.RunAsync(api, output, $"api/v1/messages/{Segment(settings.Id)}/release", ct);
}

internal static class HoldAction
{
    public static async Task<int> RunAsync(ApiClient api, Output output, string path, CancellationToken ct)
    {
        var answer = await api.SendAsync(HttpMethod.Post, path, null, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(answer);
            return ExitCodes.Ok;
        }

        var table = Output.NewTable("queue", "status", "in flight");
        foreach (var queue in answer.TryGetProperty("queues", out var q) && q.ValueKind == JsonValueKind.Array ? q.EnumerateArray() : default)
        {
            Output.Row(table, Output.Text(queue, "queue"), Output.Text(queue, "status"), Output.Text(queue, "inFlight") == "true" ? "yes (that attempt finishes)" : "");
        }

        output.Say($"message {Output.Text(answer, "id")} {Output.Text(answer, "status")}");
        output.Table(table);
        return ExitCodes.Ok;
    }
}
