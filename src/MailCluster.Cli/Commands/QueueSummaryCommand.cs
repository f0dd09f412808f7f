using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public sealed class QueueSummarySettings : GlobalSettings
{
    [CommandOption("--sort <SORT>")]
    [Description("oldest (default), pending, deferred or domain")]
    public string Sort { get; init; } = "oldest";

    [CommandOption("--order <ORDER>")]
    [Description("asc or desc (default: oldest first, biggest backlog first, domains A to Z)")]
    public string? Order { get; init; }

    [CommandOption("--domain <DOMAIN>")]
    [Description("Only the queues of this domain (all its buckets)")]
    public string? Domain { get; init; }

    [CommandOption("--limit <N>")]
    [Description("At most this many queues (default: all)")]
    public int? Limit { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        Limit is < 1 ? Spectre.Console.ValidationResult.Error("--limit must be at least 1") : base.Validate();
}

/// <summary>
/// <c>queue summary</c>: every domain queue of the cluster with its backlog and the node hosting it, page after page
/// of GET /api/v1/queues. With <c>--json</c>, one queue per line (JSON Lines). When a node did not answer, its queues
/// are missing: the command says which on standard error and exits with 8 (unavailable) after printing what it got.
/// </summary>
public sealed class QueueSummaryCommand : ApiCommand<QueueSummarySettings>
{
    private const int PageSize = 200;

    protected override async Task<int> RunAsync(ApiClient api, Output output, QueueSummarySettings settings, CancellationToken ct)
    {
        var table = Output.NewTable("queue", "node", "pending", "deferred", "held", "in flight", "oldest", "suspended until", "last reply");
        var unanswered = new SortedSet<string>(StringComparer.Ordinal);
        int listed = 0, total = 0;
        long pending = 0, deferred = 0;
        string? cursor = null;
        do
        {
            int want = Math.Min(PageSize, (settings.Limit ?? int.MaxValue) - listed);
            var query = new List<string> { $"sort={Segment(settings.Sort)}", string.Create(CultureInfo.InvariantCulture, $"limit={want}") };
            query.AddRange(settings.Order is { } o ? [$"order={Segment(o)}"] : []);
            query.AddRange(settings.Domain is { } d ? [$"domain={Segment(d)}"] : []);
            query.AddRange(cursor is { } c ? [$"cursor={Segment(c)}"] : []);
            var page = await api.GetAsync("api/v1/queues?" + string.Join('&', query), ct).ConfigureAwait(false);
            total = page.GetProperty("total").GetInt32();
            pending = page.GetProperty("totals").GetProperty("pending").GetInt64();
            deferred = page.GetProperty("totals").GetProperty("deferred").GetInt64();
            unanswered.UnionWith(page.GetProperty("unanswered_nodes").EnumerateArray().Select(n => n.GetString()!));
            foreach (var queue in page.GetProperty("queues").EnumerateArray())
            {
                listed++;
                if (output.Json)
                {
                    output.Line(queue);
                    continue;
                }

                Output.Row(table, Output.Text(queue, "queue"), Output.Text(queue, "node"), Output.Text(queue, "pending"), Output.Text(queue, "deferred"),
                    Output.Text(queue, "held"), Output.Text(queue, "inFlight"), Age(queue), Suspension(queue), Output.Text(queue, "lastReply"));
            }

            cursor = page.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null && (settings.Limit is null || listed < settings.Limit));

        if (!output.Json)
        {
            output.Table(table);
            output.Say(string.Create(CultureInfo.InvariantCulture, $"{listed} of {total} queues; {pending} pending and {deferred} deferred recipients"));
        }

        if (unanswered.Count > 0)
        {
            await Console.Error.WriteLineAsync($"mailcluster: these nodes did not answer, their queues are missing: {string.Join(", ", unanswered)}").ConfigureAwait(false);
            return ExitCodes.Unavailable;
        }

        return ExitCodes.Ok;
    }

    private static string? Age(JsonElement queue) =>
        queue.TryGetProperty("oldestAgeSeconds", out var age) && age.ValueKind == JsonValueKind.Number
            ? TimeSpan.FromSeconds(Math.Round(age.GetDouble())).ToString("c", CultureInfo.InvariantCulture)
            : null;

    private static string? Suspension(JsonElement queue) =>
        queue.TryGetProperty("suspension", out var s) && s.ValueKind == JsonValueKind.Object ? Output.Text(s, "until") : null;
}
