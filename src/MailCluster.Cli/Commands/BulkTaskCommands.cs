using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public sealed class BulkTaskSettings : GlobalSettings
{
    [CommandOption("--domain <DOMAIN>")]
    [Description("Messages queued for this destination domain")]
    public string? Domain { get; init; }

    [CommandOption("--sender <ADDRESS>")]
    [Description("Messages from this envelope sender")]
    public string? Sender { get; init; }

    [CommandOption("--recipient <ADDRESS>")]
    [Description("Messages with this pending recipient")]
    public string? Recipient { get; init; }

    [CommandOption("--older-than <AGE>")]
    [Description("Messages that arrived at least this long ago: 90s, 30m, 2h, 3d (a bare number is seconds)")]
    public string? OlderThan { get; init; }

    public override ValidationResult Validate()
    {
        if (OlderThan is not null && Ages.Seconds(OlderThan) is null)
        {
            return ValidationResult.Error($"--older-than '{OlderThan}' is not an age (90s, 30m, 2h, 3d)");
        }

        return Domain is null && Sender is null && Recipient is null && OlderThan is null
            ? ValidationResult.Error("give at least one of --domain, --sender, --recipient, --older-than")
            : base.Validate();
    }
}

/// <summary><c>bounce --domain/--sender/--recipient/--older-than</c>: a bulk bounce task (role admin); every matching
/// message's pending recipients fail now and the senders get DSNs. Follows the task with a progress bar.</summary>
public sealed class BounceCommand : ApiCommand<BulkTaskSettings>
{
    protected override Task<int> RunAsync(ApiClient api, Output output, BulkTaskSettings settings, CancellationToken ct) =>
        BulkTask.RunAsync(api, output, "bounce", settings, ct);
}

/// <summary><c>delete --domain/--sender/--recipient/--older-than</c>: a bulk delete task (role admin); matching
/// messages are removed without delivery or bounce. Follows the task with a progress bar.</summary>
public sealed class DeleteCommand : ApiCommand<BulkTaskSettings>
{
    protected override Task<int> RunAsync(ApiClient api, Output output, BulkTaskSettings settings, CancellationToken ct) =>
        BulkTask.RunAsync(api, output, "delete", settings, ct);
}

/// <summary>Creates the task (POST /api/v1/tasks) and follows it (GET /api/v1/tasks/{id}) until it ends: a Spectre.Console
/// progress display on a terminal; with <c>--json</c> (or output piped), only the final task as one JSON line. Exit 0 when
/// the task is done, 8 when it failed (a node did not answer: run it again).</summary>
internal static class BulkTask
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    public static async Task<int> RunAsync(ApiClient api, Output output, string action, BulkTaskSettings settings, CancellationToken ct)
    {
        var body = new Dictionary<string, object?>(StringComparer.Ordinal) { ["action"] = action };
        AddIf(body, "domain", settings.Domain);
        AddIf(body, "sender", settings.Sender);
        AddIf(body, "recipient", settings.Recipient);
        if (settings.OlderThan is { } age)
        {
            body["older_than_seconds"] = Ages.Seconds(age);
        }

        var task = await api.SendAsync(HttpMethod.Post, "api/v1/tasks", body, ct).ConfigureAwait(false);
        var id = Output.Text(task, "id")!;
        if (output.Json || Console.IsOutputRedirected)
        {
            while (IsRunning(task))
            {
                await Task.Delay(Poll, ct).ConfigureAwait(false);
                task = await api.GetAsync($"api/v1/tasks/{Uri.EscapeDataString(id)}", ct).ConfigureAwait(false);
            }
        }
        else
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async progress =>
                {
                    var bar = progress.AddTask(Describe(action, task));
                    bar.IsIndeterminate = true; // the count of matching messages is known only at the end
                    while (IsRunning(task))
                    {
                        await Task.Delay(Poll, ct).ConfigureAwait(false);
                        task = await api.GetAsync($"api/v1/tasks/{Uri.EscapeDataString(id)}", ct).ConfigureAwait(false);
                        bar.Description = Describe(action, task);
                    }

                    bar.IsIndeterminate = false;
                    bar.Value = bar.MaxValue;
                    bar.StopTask();
                }).ConfigureAwait(false);
        }

        bool done = Output.Text(task, "state") == "done";
        if (output.Json)
        {
            output.Line(task);
        }
        else
        {
            output.Say($"task {id} {Output.Text(task, "state")}: {Output.Text(task, "done")} messages {action}d, {Output.Text(task, "skipped")} skipped (being delivered)"
                + (Output.Text(task, "error") is { } error ? $"; {error}" : ""));
        }

        return done ? ExitCodes.Ok : ExitCodes.Unavailable;
    }

    private static bool IsRunning(JsonElement task) => Output.Text(task, "state") == "running";

    private static string Describe(string action, JsonElement task) =>
        Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{action} {Output.Text(task, "id")}: {Output.Text(task, "done")} done"));

    private static void AddIf(Dictionary<string, object?> body, string name, string? value)
    {
        if (value is not null)
        {
            body[name] = value;
        }
    }
}

/// <summary>Ages on the command line: <c>90s</c>, <c>30m</c>, <c>2h</c>, <c>3d</c>, or a bare number of seconds.</summary>
internal static class Ages
{
    public static long? Seconds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        if (text.Length == 0)
        {
            return null;
        }

        long unit = char.ToLowerInvariant(text[^1]) switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => 0,
        };
        var number = unit == 0 ? text : text[..^1];
        return long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n <= long.MaxValue / Math.Max(unit, 1)
            ? n * Math.Max(unit, 1)
            : null;
    }
}
