using System.ComponentModel;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public sealed class MessageSettings : GlobalSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("Queue id of the message (the one in \"250 2.0.0 Ok: queued as <id>\")")]
    public string Id { get; init; } = "";

    [CommandOption("--domain <DOMAIN>")]
    [Description("Recipient domain whose queue holds the message")]
    public string Domain { get; init; } = "";

    public override Spectre.Console.ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Domain) ? Spectre.Console.ValidationResult.Error("--domain is required") : base.Validate();
}

/// <summary><c>message delete ID --domain D</c>: removed from the domain's queue without delivery or bounce.</summary>
public sealed class MessageDeleteCommand : ApiCommand<MessageSettings>
{
    protected override Task<int> RunAsync(ApiClient api, Output output, MessageSettings settings, CancellationToken ct) =>
        MessageAction.RunAsync(api, output, HttpMethod.Delete, $"api/v1/queues/{Segment(settings.Domain)}/messages/{Segment(settings.Id)}", ct);
}

/// <summary><c>message bounce ID --domain D</c>: every pending recipient fails now; the sender gets a DSN.</summary>
public sealed class MessageBounceCommand : ApiCommand<MessageSettings>
{
    protected override Task<int> RunAsync(ApiClient api, Output output, MessageSettings settings, CancellationToken ct) =>
        MessageAction.RunAsync(api, output, HttpMethod.Post, $"api/v1/queues/{Segment(settings.Domain)}/messages/{Segment(settings.Id)}/bounce", ct);
}

internal static class MessageAction
{
    public static async Task<int> RunAsync(ApiClient api, Output output, HttpMethod method, string path, CancellationToken ct)
    {
        var answer = await api.SendAsync(method, path, null, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(answer);
        }
        else
        {
            output.Say($"message {Output.Text(answer, "id")} {Output.Text(answer, "status")} (queue {Output.Text(answer, "queue")})");
        }

        return ExitCodes.Ok;
    }
}
