using System.ComponentModel;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public sealed class FlushSettings : GlobalSettings
{
    [CommandArgument(0, "[DOMAIN]")]
    [Description("Destination domain (every bucket of it); without it, every queue of the cluster")]
    public string? Domain { get; init; }
}

/// <summary><c>flush [DOMAIN]</c>: every deferred recipient is tried now: one domain (POST
/// /api/v1/queues/{domain}/flush) or every queue of the cluster (POST /api/v1/flush).</summary>
public sealed class FlushCommand : ApiCommand<FlushSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, FlushSettings settings, CancellationToken ct)
    {
        bool all = string.IsNullOrEmpty(settings.Domain);
        var path = all ? "api/v1/flush" : $"api/v1/queues/{Segment(settings.Domain!)}/flush";
        var answer = await api.SendAsync(HttpMethod.Post, path, null, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(answer);
        }
        else
        {
            output.Say(all
                ? $"{Output.Text(answer, "flushed")} messages in {Output.Text(answer, "queues")} queues are due now"
                : $"{Output.Text(answer, "flushed")} messages of {Output.Text(answer, "domain")} are due now");
        }

        var unanswered = answer.TryGetProperty(all ? "unanswered_nodes" : "unanswered", out var u) ? u.GetArrayLength() : 0;
        if (unanswered > 0)
        {
            await Console.Error.WriteLineAsync($"mailcluster: some nodes did not answer and were not flushed: {u}").ConfigureAwait(false);
            return ExitCodes.Unavailable;
        }

        return ExitCodes.Ok;
    }
}
