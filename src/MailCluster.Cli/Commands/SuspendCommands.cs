using System.ComponentModel;
using System.Globalization;
using System.Text.RegularExpressions;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public sealed partial class SuspendSettings : GlobalSettings
{
    [CommandArgument(0, "<DOMAIN>")]
    [Description("Destination domain: every queue (and bucket) of it, on every node")]
    public string Domain { get; init; } = "";

    [CommandOption("--for <DURATION>")]
    [Description("How long: 90s, 30m, 2h, 1d, 1h30m, or seconds")]
    public string For { get; init; } = "";

    [CommandOption("--reason <TEXT>")]
    [Description("Why (shown to every operator)")]
    public string Reason { get; init; } = "";

    /// <summary>The duration in seconds, or null when <paramref name="text"/> is not one: whole numbers with the units
    /// d, h, m, s in that order (at least one), or a plain number of seconds.</summary>
    public static double? Seconds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double plain))
        {
            return plain;
        }

        var match = DurationPattern().Match(text);
        if (!match.Success || text.Length == 0)
        {
            return null;
        }

        double Part(string group, double unit) => match.Groups[group].Success ? long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) * unit : 0;
        return Part("d", 86400) + Part("h", 3600) + Part("m", 60) + Part("s", 1);
    }

    public override Spectre.Console.ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(For) ? Spectre.Console.ValidationResult.Error("--for is required (e.g. --for 2h)")
        : Seconds(For) is null ? Spectre.Console.ValidationResult.Error($"--for '{For}' is not a duration (90s, 30m, 2h, 1d, 1h30m)")
        : string.IsNullOrWhiteSpace(Reason) ? Spectre.Console.ValidationResult.Error("--reason is required")
        : base.Validate();

    [GeneratedRegex(@"^(?:(?<d>\d{1,6})d)?(?:(?<h>\d{1,7})h)?(?:(?<m>\d{1,9})m)?(?:(?<s>\d{1,10})s)?$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();
}

/// <summary><c>suspend DOMAIN --for 2h --reason TEXT</c>: POST /api/v1/suspensions (role operate). The node checks the
/// bounds (above 0, at most 30 days) and names the field it refuses.</summary>
public sealed class SuspendCommand : ApiCommand<SuspendSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, SuspendSettings settings, CancellationToken ct)
    {
        var body = new Dictionary<string, object> { ["domain"] = settings.Domain, ["duration_seconds"] = SuspendSettings.Seconds(settings.For)!, ["reason"] = settings.Reason };
        var answer = await api.SendAsync(HttpMethod.Post, "api/v1/suspensions", body, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(answer);
            return ExitCodes.Ok;
        }

        var s = answer.GetProperty("suspension");
        output.Say($"{Output.Text(s, "domain")} suspended until {Output.Text(s, "until")}{(Output.Text(answer, "replaced") == "true" ? " (replaced the earlier suspension)" : "")}: {Output.Text(s, "reason")}");
        return ExitCodes.Ok;
    }
}

public sealed class ResumeSettings : GlobalSettings
{
    [CommandArgument(0, "<DOMAIN>")]
    [Description("Destination domain whose suspension ends now")]
    public string Domain { get; init; } = "";
}

/// <summary><c>resume DOMAIN</c>: DELETE /api/v1/suspensions/{domain} (role operate); exit code 5 when it was not suspended.</summary>
public sealed class ResumeCommand : ApiCommand<ResumeSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, ResumeSettings settings, CancellationToken ct)
    {
        var answer = await api.SendAsync(HttpMethod.Delete, $"api/v1/suspensions/{Segment(settings.Domain)}", null, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(answer);
        }
        else
        {
            output.Say($"{Output.Text(answer, "domain")} {Output.Text(answer, "status")}");
        }

        return ExitCodes.Ok;
    }
}

/// <summary><c>suspensions</c>: GET /api/v1/suspensions (role read); <c>--json</c> prints JSON Lines. (A command of its
/// own rather than <c>suspend list</c>: a branch's default command cannot take the DOMAIN argument in Spectre.Console.Cli.)</summary>
public sealed class SuspensionsCommand : ApiCommand<GlobalSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, GlobalSettings settings, CancellationToken ct)
    {
        var list = (await api.GetAsync("api/v1/suspensions", ct).ConfigureAwait(false)).GetProperty("suspensions");
        var table = Output.NewTable("domain", "until", "remaining (s)", "reason");
        foreach (var s in list.EnumerateArray())
        {
            if (output.Json)
            {
                output.Line(s);
            }
            else
            {
                Output.Row(table, Output.Text(s, "domain"), Output.Text(s, "until"), Output.Text(s, "remainingSeconds"), Output.Text(s, "reason"));
            }
        }

        if (!output.Json)
        {
            output.Table(table);
        }

        return ExitCodes.Ok;
    }
}
