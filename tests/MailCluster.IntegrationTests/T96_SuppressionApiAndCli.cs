using System.Net;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T96: the suppression list managed by hand. Through the API: a global and a per-credential entry (the latter refuses
/// only alice's submissions: the same address on the MX listener and the global entry's scope are checked), a bad
/// address answered 400 naming the field, paging, CSV and JSON Lines export, removal (204, then 404). Through the
/// built CLI against the same node: add, list, export and remove, and the exit code of a missing entry.
/// </summary>
[ParallelScenario]
public sealed class T96_SuppressionApiAndCli
{
    [Fact]
    public async Task The_list_is_managed_through_the_api_and_the_cli()
    {
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig(SuppressionScenario.Environment());
        await scenario.StartNodeAsync(config, "node-t96");
        using var api = QueueApiClient.For(config);
        var (globalAddress, ownAddress, free) = ($"global@{Scenario.RelayDomain}", $"own@{Scenario.RelayDomain}", $"free@{Scenario.RelayDomain}");

        using (var added = await SuppressionScenario.AddAsync(api, new { address = globalAddress, reason = "complained", expiryDays = 7 }))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        using (var added = await SuppressionScenario.AddAsync(api, new { address = ownAddress, credential = "alice", reason = "unsubscribed from alice" }))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        using (var bad = await SuppressionScenario.AddAsync(api, new { address = "not an address" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("address", JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
        }

        // In force at once on this node: alice is refused both, the MX listener neither, and an unlisted address passes.
        var refusedGlobal = await SuppressionScenario.SubmitAsync(config.SubmissionsPort, globalAddress, "T96 global");
        Assert.Contains("suppressed: complained", refusedGlobal?.Message, StringComparison.Ordinal);
        var refusedOwn = await SuppressionScenario.SubmitAsync(config.SubmissionsPort, ownAddress, "T96 own");
        Assert.Contains("suppressed: unsubscribed from alice", refusedOwn?.Message, StringComparison.Ordinal);
        Assert.Null(await SuppressionScenario.SubmitAsync(config.SubmissionsPort, free, "T96 free"));
        Assert.StartsWith("2.0.0 ", await Scenario.SendAsync(config.MxPort, Scenario.NewMessage(ownAddress, "T96 mx")), StringComparison.Ordinal);

        var first = await QueueApiClient.GetJsonAsync(api, "/api/v1/suppressions?limit=1", HttpStatusCode.OK);
        Assert.Equal((2, 1), (first.GetProperty("total").GetInt32(), first.GetProperty("next").GetInt32()));
        Assert.Equal(globalAddress, first.GetProperty("suppressions")[0].GetProperty("address").GetString());
        var second = await QueueApiClient.GetJsonAsync(api, "/api/v1/suppressions?limit=1&offset=1", HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
        Assert.Equal(("credential", "alice"), (second.GetProperty("suppressions")[0].GetProperty("scope").GetString(), second.GetProperty("suppressions")[0].GetProperty("credential").GetString()));
        var badLimit = await QueueApiClient.GetJsonAsync(api, "/api/v1/suppressions?limit=0", HttpStatusCode.BadRequest);
        Assert.Equal("limit", badLimit.GetProperty("field").GetString());

        var csv = (await api.GetStringAsync(new Uri("/api/v1/suppressions/export?format=csv", UriKind.Relative))).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("address,scope,credential,reason,source,created_at,expires_at", csv[0]);
        Assert.StartsWith($"{globalAddress},global,,complained,api,", csv[1], StringComparison.Ordinal);
        Assert.StartsWith($"{ownAddress},credential,alice,unsubscribed from alice,api,", csv[2], StringComparison.Ordinal);
        var jsonl = (await api.GetStringAsync(new Uri("/api/v1/suppressions/export?format=jsonl", UriKind.Relative))).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([globalAddress, ownAddress], jsonl.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("address").GetString()));

        using (var removed = await api.DeleteAsync(new Uri($"/api/v1/suppressions/{ownAddress}?credential=alice", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        using (var again = await api.DeleteAsync(new Uri($"/api/v1/suppressions/{ownAddress}?credential=alice", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        Assert.Null(await SuppressionScenario.SubmitAsync(config.SubmissionsPort, ownAddress, "T96 own again"));

        // The CLI against the same node.
        using var cli = new MailClusterCli();
        var admin = new Dictionary<string, string> { ["MAILCLUSTER_URL"] = $"http://127.0.0.1:{config.OpsPort}", ["MAILCLUSTER_TOKEN"] = config.AdminToken };
        var cliAddress = $"cli@{Scenario.RelayDomain}";
        await Ok(cli.RunAsync(admin, "suppression", "add", cliAddress, "--reason", "cli test", "--credential", "alice", "--expiry-days", "3"));
        var listed = await Ok(cli.RunAsync(admin, "suppression", "list", "--json"));
        var lines = listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([cliAddress, globalAddress], lines.Select(l => l.GetProperty("address").GetString()));
        Assert.Contains("cli test", (await Ok(cli.RunAsync(admin, "suppression", "list"))).Stdout, StringComparison.Ordinal);
        var exported = await Ok(cli.RunAsync(admin, "suppression", "export", "--format", "csv", "--credential", "alice"));
        var exportedLines = exported.Stdout.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, exportedLines.Length);
        Assert.Equal("address,scope,credential,reason,source,created_at,expires_at", exportedLines[0]);
        Assert.StartsWith($"{cliAddress},credential,alice,cli test,api,", exportedLines[1], StringComparison.Ordinal);
        var exportedJsonl = await Ok(cli.RunAsync(admin, "suppression", "export", "--format", "jsonl"));
        Assert.Equal(2, exportedJsonl.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.NotNull(await SuppressionScenario.SubmitAsync(config.SubmissionsPort, cliAddress, "T96 cli"));
        await Ok(cli.RunAsync(admin, "suppression", "remove", cliAddress, "--credential", "alice"));
        var missing = await cli.RunAsync(admin, "suppression", "remove", cliAddress, "--credential", "alice");
        Assert.True(missing.ExitCode == 5, missing.ToString());
        Assert.Equal([globalAddress], (await SuppressionScenario.ListAsync(api)).Select(e => e.GetProperty("address").GetString()));
    }

    private static async Task<CliResult> Ok(Task<CliResult> run)
    {
        var result = await run;
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
