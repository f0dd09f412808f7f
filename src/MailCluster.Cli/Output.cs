using System.Text.Json;
using Spectre.Console;

namespace MailCluster.Cli;

/// <summary>What a command prints: tables and sentences for people, JSON for scripts (<c>--json</c>: one object per
/// line, so a list is JSON Lines in the spirit of <c>postqueue -j</c>).</summary>
public sealed class Output(bool json, IAnsiConsole console, TextWriter stdout)
{
    // Compact (one object per line) and without escaping '+', '<', '&' and non-ASCII text: the output is for jq and
    // scripts, never embedded in HTML.
    private static readonly JsonSerializerOptions LineOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public bool Json { get; } = json;

    /// <summary>One JSON object on its own line (so that lists are JSON Lines).</summary>
    public void Line(JsonElement value) => stdout.WriteLine(JsonSerializer.Serialize(value, LineOptions));

    public void Line(object value) => stdout.WriteLine(JsonSerializer.Serialize(value, LineOptions));

    public void Table(Table table) => console.Write(table);

    public void Say(string text) => console.WriteLine(text);

    public static Table NewTable(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(Markup.Escape(column)));
        }

        return table;
    }

    /// <summary>Adds a row of plain text (never read as markup: names and replies come from outside).</summary>
    public static void Row(Table table, params string?[] cells) =>
        table.AddRow([.. cells.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(c ?? ""))]);

    public static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => value.GetRawText(),
        } : null;
}
