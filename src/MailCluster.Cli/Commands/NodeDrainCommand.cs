namespace MailCluster.Cli.Commands;

/// <summary><c>node drain</c>: POST /api/v1/node/drain on the node named by the URL (it finishes its sessions, hands its
/// shards off and exits, like SIGTERM).</summary>
public sealed class NodeDrainCommand : ApiCommand<GlobalSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, GlobalSettings settings, CancellationToken ct)
    {
        var answer = await api.SendAsync(HttpMethod.Post, "api/v1/node/drain", null, ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(answer);
        }
        else
        {
            output.Say("the node is draining; it exits when its sessions have finished and its shards have moved");
        }

        return ExitCodes.Ok;
    }
}
