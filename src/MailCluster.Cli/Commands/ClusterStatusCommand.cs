using System.Globalization;
using System.Text.Json;

namespace MailCluster.Cli.Commands;

/// <summary><c>cluster status</c>: GET /api/v1/cluster: the members, leader and the domain-queue shards per node.</summary>
public sealed class ClusterStatusCommand : ApiCommand<GlobalSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, GlobalSettings settings, CancellationToken ct)
    {
        var view = await api.GetAsync("api/v1/cluster", ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(view);
            return ExitCodes.Ok;
        }

        var hosts = view.GetProperty("shardHosts").EnumerateArray().ToDictionary(h => h.GetProperty("address").GetString()!, h => h, StringComparer.Ordinal);
        var table = Output.NewTable("address", "roles", "status", "reachable", "shards", "queues");
        foreach (var member in view.GetProperty("members").EnumerateArray())
        {
            var address = member.GetProperty("address").GetString()!;
            var host = hosts.GetValueOrDefault(address);
            Output.Row(
                table,
                address == Output.Text(view, "self") ? address + " (this node)" : address,
                string.Join(",", member.GetProperty("roles").EnumerateArray().Select(r => r.GetString())),
                Output.Text(member, "status"),
                member.GetProperty("reachable").GetBoolean() ? "yes" : "NO",
                host.ValueKind == JsonValueKind.Object ? host.GetProperty("shards").GetInt32().ToString(CultureInfo.InvariantCulture) : "",
                host.ValueKind == JsonValueKind.Object ? host.GetProperty("entities").GetInt32().ToString(CultureInfo.InvariantCulture) : "");
        }

        output.Say($"leader: {Output.Text(view, "leader") ?? "none"}");
        output.Table(table);
        if (Output.Text(view, "error") is { } error)
        {
            output.Say("note: " + error);
        }

        return ExitCodes.Ok;
    }
}
