using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public sealed class QueueListSettings : GlobalSettings
{
    [CommandOption("--domain <DOMAIN>")]
    [Description("Destination domain whose queue to list (every bucket of it)")]
    public string Domain { get; init; } = "";

    [CommandOption("--limit <N>")]
    [Description("At most this many messages (default: all)")]
    public int? Limit { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Domain) ? Spectre.Console.ValidationResult.Error("--domain is required")
        : Limit is < 1 ? Spectre.Console.ValidationResult.Error("--limit must be at least 1")
        : base.Validate();
}

/// <summary>
/// <c>queue list --domain D [--json]</c>: the messages with a pending recipient, by next attempt, page after page of
/// GET /api/v1/queues/{domain}. With <c>--json</c>, one message per line (JSON Lines, like <c>postqueue -j</c>).
/// </summary>
public sealed class QueueListCommand : ApiCommand<QueueListSettings>
{
    private const int PageSize = 1000;

    protected override async Task<int> RunAsync(ApiClient api, Output output, QueueListSettings settings, CancellationToken ct)
    {
        var table = Output.NewTable("id", "queue", "sender", "arrived", "next attempt", "recipients");
        int listed = 0, total = 0;
        int? offset = 0;
        while (offset is { } from && (settings.Limit is null || listed < settings.Limit))
        {
            int want = Math.Min(PageSize, (settings.Limit ?? int.MaxValue) - listed);
            var page = await api.GetAsync(string.Create(CultureInfo.InvariantCulture, $"api/v1/queues/{Segment(settings.Domain)}?limit={want}&offset={from}"), ct).ConfigureAwait(false);
            total = page.GetProperty("total").GetInt32();
            foreach (var message in page.GetProperty("messages").EnumerateArray())
            {
                listed++;
                if (output.Json)
                {
                    output.Line(message);
                    continue;
                }

                Output.Row(table, Output.Text(message, "id"), Output.Text(message, "queue"), Output.Text(message, "sender"),
                    Output.Text(message, "arrivedAt"), Output.Text(message, "nextAttemptAt"), Recipients(message));
            }

            offset = page.TryGetProperty("nextOffset", out var next) && next.ValueKind == JsonValueKind.Number ? next.GetInt32() : null;
        }

        if (!output.Json)
        {
            output.Table(table);
            output.Say(string.Create(CultureInfo.InvariantCulture, $"{listed} of {total} messages"));
        }

        return ExitCodes.Ok;
    }

    private static string Recipients(JsonElement message) => string.Join("\n", message.GetProperty("recipients").EnumerateArray().Select(r =>
        string.Create(CultureInfo.InvariantCulture, $"{Output.Text(r, "address")} {Output.Text(r, "state")} attempts={Output.Text(r, "attempts")}")
        + (Output.Text(r, "lastError") is { } error ? " " + error : "")));
}
