using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public sealed class SuppressionAddSettings : GlobalSettings
{
    [CommandArgument(0, "<ADDRESS>")]
    [Description("The recipient address to suppress")]
    public string Address { get; init; } = "";

    [CommandOption("--credential <CREDENTIAL>")]
    [Description("Suppress only for this SMTP user or API key id (default: for every sender)")]
    public string? Credential { get; init; }

    [CommandOption("--reason <REASON>")]
    [Description("Why (shown in the 550 reply and the list)")]
    public string? Reason { get; init; }

    [CommandOption("--expiry-days <DAYS>")]
    [Description("Days until the entry lapses (default: MailCluster:Suppression:ExpiryDays, 30)")]
    public int? ExpiryDays { get; init; }
}

/// <summary><c>suppression add ADDRESS [--credential C] [--reason R] [--expiry-days N]</c>: POST /api/v1/suppressions (role admin).</summary>
public sealed class SuppressionAddCommand : ApiCommand<SuppressionAddSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, SuppressionAddSettings settings, CancellationToken ct)
    {
        var body = new Dictionary<string, object> { ["address"] = settings.Address };
        if (settings.Credential is { } credential)
        {
            body["credential"] = credential;
        }

        if (settings.Reason is { } reason)
        {
            body["reason"] = reason;
        }

        if (settings.ExpiryDays is { } days)
        {
            body["expiryDays"] = days;
        }

        var entry = await api.SendAsync(HttpMethod.Post, "api/v1/suppressions", body, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(entry);
        }
        else
        {
            output.Say($"<{Output.Text(entry, "address")}> suppressed ({Output.Text(entry, "scope")}) until {Output.Text(entry, "expiresAt")}");
        }

        return ExitCodes.Ok;
    }
}

public sealed class SuppressionRemoveSettings : GlobalSettings
{
    [CommandArgument(0, "<ADDRESS>")]
    [Description("The suppressed address")]
    public string Address { get; init; } = "";

    [CommandOption("--credential <CREDENTIAL>")]
    [Description("Remove the entry of this credential (default: the global entry)")]
    public string? Credential { get; init; }
}

/// <summary><c>suppression remove ADDRESS [--credential C]</c>: DELETE /api/v1/suppressions/{address} (role admin).</summary>
public sealed class SuppressionRemoveCommand : ApiCommand<SuppressionRemoveSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, SuppressionRemoveSettings settings, CancellationToken ct)
    {
        var query = settings.Credential is { } c ? "?credential=" + Uri.EscapeDataString(c) : "";
        await api.SendAsync(HttpMethod.Delete, $"api/v1/suppressions/{Segment(settings.Address)}{query}", null, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(new { address = settings.Address, credential = settings.Credential, removed = true });
        }
        else
        {
            output.Say($"<{settings.Address}> removed from the suppression list");
        }

        return ExitCodes.Ok;
    }
}

public sealed class SuppressionListSettings : GlobalSettings
{
    [CommandOption("--credential <CREDENTIAL>")]
    [Description("Only this credential's entries (*global: only global ones)")]
    public string? Credential { get; init; }

    [CommandOption("--format <FORMAT>")]
    [Description("export only: csv (default) or jsonl")]
    public string Format { get; init; } = "csv";
}

/// <summary><c>suppression list [--credential C] [--json]</c>: every entry, page by page from GET /api/v1/suppressions (role read).</summary>
public sealed class SuppressionListCommand : ApiCommand<SuppressionListSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, SuppressionListSettings settings, CancellationToken ct)
    {
        var table = Output.NewTable("address", "scope", "credential", "reason", "expires");
        await foreach (var entry in SuppressionPages.AllAsync(api, settings.Credential, ct).ConfigureAwait(false))
        {
            if (output.Json)
            {
                output.Line(entry);
            }
            else
            {
                Output.Row(table, Output.Text(entry, "address"), Output.Text(entry, "scope"), Output.Text(entry, "credential"), Output.Text(entry, "reason"), Output.Text(entry, "expiresAt"));
            }
        }

        if (!output.Json)
        {
            output.Table(table);
        }

        return ExitCodes.Ok;
    }
}

/// <summary><c>suppression export [--format csv|jsonl] [--credential C]</c>: every entry to standard output, as the
/// API's export writes it (role read).</summary>
public sealed class SuppressionExportCommand : ApiCommand<SuppressionListSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, SuppressionListSettings settings, CancellationToken ct)
    {
        if (settings.Format is not ("csv" or "jsonl"))
        {
            throw new CliException(ExitCodes.Usage, "--format must be csv or jsonl");
        }

        var csv = settings.Format == "csv";
        if (csv)
        {
            Console.Out.Write("address,scope,credential,reason,source,created_at,expires_at\r\n");
        }

        await foreach (var e in SuppressionPages.AllAsync(api, settings.Credential, ct).ConfigureAwait(false))
        {
            if (!csv)
            {
                output.Line(e);
                continue;
            }

            string[] fields = ["address", "scope", "credential", "reason", "source", "createdAt", "expiresAt"];
            Console.Out.Write(string.Join(',', fields.Select(f => Csv(Output.Text(e, f) ?? ""))) + "\r\n");
        }

        return ExitCodes.Ok;
    }

    /// <summary>RFC 4180 quoting, and a leading apostrophe on what a spreadsheet would run as a formula.</summary>
    private static string Csv(string field)
    {
        if (field.Length > 0 && field[0] is '=' or '+' or '-' or '@')
        {
            field = "'" + field;
        }

        return field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
    }
}

/// <summary>Reads every entry of the list through its pages.</summary>
internal static class SuppressionPages
{
    public static async IAsyncEnumerable<JsonElement> AllAsync(ApiClient api, string? credential, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var filter = credential is null ? "" : "&credential=" + Uri.EscapeDataString(credential);
        int? offset = 0;
        while (offset is { } from)
        {
            var page = await api.GetAsync($"api/v1/suppressions?limit=1000&offset={from.ToString(CultureInfo.InvariantCulture)}{filter}", ct).ConfigureAwait(false);
            foreach (var entry in page.GetProperty("suppressions").EnumerateArray())
            {
                yield return entry;
            }

            offset = page.TryGetProperty("next", out var next) && next.ValueKind == JsonValueKind.Number ? next.GetInt32() : null;
        }
    }
}
