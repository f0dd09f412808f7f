using System.ComponentModel;
using System.Text.Json;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public sealed class KeyCreateSettings : GlobalSettings
{
    [CommandOption("--name <NAME>")]
    [Description("What the key is for (shown in listings)")]
    public string Name { get; init; } = "";

    [CommandOption("--sender <SENDER>")]
    [Description("An address (app@example.org) or domain (example.com) the key may send as; repeat for more (at least one)")]
    public string[] Senders { get; init; } = [];

    [CommandOption("--scope <SCOPE>")]
    [Description("smtp (SMTP AUTH) and/or http (the injection API); repeat for both (default: both)")]
    public string[] Scopes { get; init; } = [];

    [CommandOption("--rate-per-minute <N>")]
    [Description("Messages in any minute, across the cluster (default: no limit)")]
    public int? RatePerMinute { get; init; }

    [CommandOption("--daily-quota <N>")]
    [Description("Messages per UTC day, across the cluster (default: no limit)")]
    public int? DailyQuota { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Name) ? Spectre.Console.ValidationResult.Error("--name is required")
        : Senders.Length == 0 ? Spectre.Console.ValidationResult.Error("--sender is required (at least one)")
        : base.Validate();
}

/// <summary><c>key create --name N --sender S... [--scope smtp|http]... [--rate-per-minute N] [--daily-quota N]</c>:
/// POST /api/v1/keys; prints the id and the secret (shown once).</summary>
public sealed class KeyCreateCommand : ApiCommand<KeyCreateSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, KeyCreateSettings settings, CancellationToken ct)
    {
        var body = new Dictionary<string, object?>
        {
            ["name"] = settings.Name,
            ["senders"] = settings.Senders,
            ["rate_per_minute"] = settings.RatePerMinute,
            ["daily_quota"] = settings.DailyQuota,
        };
        if (settings.Scopes.Length > 0)
        {
            body["scopes"] = settings.Scopes;
        }

        var created = await api.SendAsync(HttpMethod.Post, "api/v1/keys", body, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(created);
            return ExitCodes.Ok;
        }

        var table = Output.NewTable("id", "name", "secret");
        Output.Row(table, Output.Text(created, "id"), Output.Text(created, "name"), Output.Text(created, "secret"));
        output.Table(table);
        output.Say("The secret is shown this once: keep it now. SMTP AUTH: the id as user name, the secret as password.");
        return ExitCodes.Ok;
    }
}

/// <summary><c>key list</c>: GET /api/v1/keys, never a secret.</summary>
public sealed class KeyListCommand : ApiCommand<GlobalSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, GlobalSettings settings, CancellationToken ct)
    {
        var keys = (await api.GetAsync("api/v1/keys", ct).ConfigureAwait(false)).GetProperty("keys");
        var table = Output.NewTable("id", "name", "enabled", "scopes", "senders", "rate/min", "daily");
        foreach (var key in keys.EnumerateArray())
        {
            if (output.Json)
            {
                output.Line(key);
            }
            else
            {
                Output.Row(table, Output.Text(key, "id"), Output.Text(key, "name"), Output.Text(key, "enabled"), Join(key, "scopes"), Join(key, "senders"),
                    Output.Text(key, "rate_per_minute") ?? "-", Output.Text(key, "daily_quota") ?? "-");
            }
        }

        if (!output.Json)
        {
            output.Table(table);
        }

        return ExitCodes.Ok;
    }

    private static string Join(JsonElement key, string name) => string.Join(' ', key.GetProperty(name).EnumerateArray().Select(s => s.GetString()));
}

public sealed class KeyIdSettings : GlobalSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The key's id (key_..., from key list)")]
    public string Id { get; init; } = "";
}

/// <summary><c>key disable ID</c>: the key is refused (535 / 401) on every node within seconds, and kept.</summary>
public sealed class KeyDisableCommand : ApiCommand<KeyIdSettings>
{
    protected override Task<int> RunAsync(ApiClient api, Output output, KeyIdSettings settings, CancellationToken ct) =>
        KeyAction.RunAsync(api, output, HttpMethod.Post, $"api/v1/keys/{Segment(settings.Id)}/disable", $"key {settings.Id} disabled", ct);
}

/// <summary><c>key enable ID</c>.</summary>
public sealed class KeyEnableCommand : ApiCommand<KeyIdSettings>
{
    protected override Task<int> RunAsync(ApiClient api, Output output, KeyIdSettings settings, CancellationToken ct) =>
        KeyAction.RunAsync(api, output, HttpMethod.Post, $"api/v1/keys/{Segment(settings.Id)}/enable", $"key {settings.Id} enabled", ct);
}

/// <summary><c>key delete ID</c>.</summary>
public sealed class KeyDeleteCommand : ApiCommand<KeyIdSettings>
{
    protected override Task<int> RunAsync(ApiClient api, Output output, KeyIdSettings settings, CancellationToken ct) =>
        KeyAction.RunAsync(api, output, HttpMethod.Delete, $"api/v1/keys/{Segment(settings.Id)}", $"key {settings.Id} deleted", ct);
}

internal static class KeyAction
{
    public static async Task<int> RunAsync(ApiClient api, Output output, HttpMethod method, string path, string done, CancellationToken ct)
    {
        var answer = await api.SendAsync(method, path, null, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(answer);
        }
        else
        {
            output.Say(done);
        }

        return ExitCodes.Ok;
    }
}
