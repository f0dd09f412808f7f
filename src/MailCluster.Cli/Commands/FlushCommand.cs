using System.ComponentModel;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public sealed class DomainSettings : GlobalSettings
{
    [CommandArgument(0, "<DOMAIN>")]
    [Description("Destination domain")]
    public string Domain { get; init; } = "";
}

/// <summary><c>flush DOMAIN</c>: POST /api/v1/queues/{domain}/flush: every deferred recipient is tried now.</summary>
public sealed class FlushCommand : ApiCommand<DomainSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, DomainSettings settings, CancellationToken ct)
    {
        var answer = await api.SendAsync(HttpMethod.Post, $"api/v1/queues/{Segment(settings.Domain)}/flush", null, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(answer);
        }
        else
        {
            output.Say($"{Output.Text(answer, "flushed")} messages of {Output.Text(answer, "domain")} are due now");
        }

        return ExitCodes.Ok;
    }
}
