using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T57: the built <c>mailcluster</c> tool as a process against a real node. Endpoint and token come from the
/// environment, flags or a config file; tokens are created, listed and revoked; two deferred messages are listed as
/// JSON Lines and as a table; the cluster status shows the node; flush, delete and the exit codes scripts rely on:
/// 0 done, 2 usage, 3 bad token, 4 role too low, 5 not found, 7 input refused, 8 node unreachable.
/// </summary>
[ParallelScenario]
public sealed class T57_CommandLineTool
{
    [Fact]
    public async Task The_cli_drives_the_ops_api_with_exit_codes_scripts_can_use()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.RefuseRecipient($"busy1@{Scenario.RelayDomain}", "450 4.2.1 mailbox busy");
        scenario.Sink.RefuseRecipient($"busy2@{Scenario.RelayDomain}", "450 4.2.1 mailbox busy");
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
        });
        await scenario.StartNodeAsync(config, "node-t57");
        using var cli = new MailClusterCli();
        var url = $"http://127.0.0.1:{config.OpsPort}";
        var admin = new Dictionary<string, string> { ["MAILCLUSTER_URL"] = url, ["MAILCLUSTER_TOKEN"] = config.AdminToken };

        // token create / list: the secret once, then listed without it.
        var created = await Ok(cli.RunAsync(admin, "token", "create", "--name", "t57-reader", "--role", "read", "--json"));
        using var createdJson = JsonDocument.Parse(created.Stdout);
        var readerId = createdJson.RootElement.GetProperty("id").GetString()!;
        var reader = createdJson.RootElement.GetProperty("token").GetString()!;
        var listed = await Ok(cli.RunAsync(admin, "token", "list", "--json"));
        var lines = JsonLines(listed.Stdout);
        Assert.Contains(lines, l => l.GetProperty("id").GetString() == readerId && l.GetProperty("role").GetString() == "read");
        Assert.DoesNotContain(reader, listed.Stdout, StringComparison.Ordinal);
        Assert.Contains("t57-reader", (await Ok(cli.RunAsync(admin, "token", "list"))).Stdout, StringComparison.Ordinal);

        // Two deferred messages, listed as JSON Lines (one message per line) with the read token given as a flag.
        var ids = new List<string>();
        foreach (var to in new[] { "busy1", "busy2" })
        {
            var reply = await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"{to}@{Scenario.RelayDomain}", "T57 " + to));
            ids.Add(reply[(reply.LastIndexOf(' ') + 1)..]);
        }

        var byFlag = new Dictionary<string, string> { ["MAILCLUSTER_URL"] = url };
        CliResult queue = null!;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(250))
        {
            queue = await Ok(cli.RunAsync(byFlag, "queue", "list", "--domain", Scenario.RelayDomain, "--json", "--token", reader));
            var messages = JsonLines(queue.Stdout);
            if (messages.Count == 2 && messages.All(m => m.GetProperty("recipients")[0].GetProperty("attempts").GetInt32() >= 1) || DateTime.UtcNow > deadline)
            {
                break;
            }
        }

        var queued = JsonLines(queue.Stdout);
        Assert.Equal(ids.Order(StringComparer.Ordinal), queued.Select(m => m.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(queued, m => Assert.Contains("450", m.GetProperty("recipients")[0].GetProperty("lastError").GetString(), StringComparison.Ordinal));
        var table = await Ok(cli.RunAsync(admin, "queue", "list", "--domain", Scenario.RelayDomain));
        Assert.Contains(ids[0], table.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 of 2 messages", table.Stdout, StringComparison.Ordinal);

        // cluster status, from a config file this time (no environment).
        var configFile = Path.Combine(cli.Home, "mc.json");
        await File.WriteAllTextAsync(configFile, JsonSerializer.Serialize(new { url, token = reader }));
        var status = await Ok(cli.RunAsync(new Dictionary<string, string>(), "cluster", "status", "--config", configFile));
        Assert.Contains("(this node)", status.Stdout, StringComparison.Ordinal);
        Assert.Contains("Up", status.Stdout, StringComparison.Ordinal);
        using (var json = JsonDocument.Parse((await Ok(cli.RunAsync(admin, "cluster", "status", "--json"))).Stdout))
        {
            Assert.Equal("Up", json.RootElement.GetProperty("members")[0].GetProperty("status").GetString());
        }

        // Exit codes.
        await Exit(4, cli.RunAsync(byFlag, "flush", Scenario.RelayDomain, "--token", reader));
        await Exit(3, cli.RunAsync(byFlag, "cluster", "status", "--token", "mct_not-a-token"));
        await Exit(5, cli.RunAsync(admin, "message", "delete", "nosuchmessage", "--domain", Scenario.RelayDomain));
        var refused = await Exit(7, cli.RunAsync(admin, "queue", "list", "--domain", Scenario.RelayDomain + "#0"));
        Assert.Contains("field: domain", refused.Stderr, StringComparison.Ordinal);
        await Exit(2, cli.RunAsync(admin, "token", "create", "--role", "read"));
        await Exit(2, cli.RunAsync(admin, "no-such-command"));
        await Exit(2, cli.RunAsync(new Dictionary<string, string> { ["MAILCLUSTER_URL"] = url }, "cluster", "status"));
        var closedPort = MailCluster.Testing.FreePort.Tcp();
        await Exit(8, cli.RunAsync(new Dictionary<string, string> { ["MAILCLUSTER_URL"] = $"http://127.0.0.1:{closedPort}", ["MAILCLUSTER_TOKEN"] = reader }, "cluster", "status"));

        // delete one message (then it is gone: 5), flush the other.
        var deleted = await Ok(cli.RunAsync(admin, "message", "delete", ids[0], "--domain", Scenario.RelayDomain, "--json"));
        Assert.Equal("deleted", JsonDocument.Parse(deleted.Stdout).RootElement.GetProperty("status").GetString());
        await Exit(5, cli.RunAsync(admin, "message", "delete", ids[0], "--domain", Scenario.RelayDomain));
        var flushed = await Ok(cli.RunAsync(admin, "flush", Scenario.RelayDomain));
        Assert.Contains("1 messages of relay.test are due now", flushed.Stdout, StringComparison.Ordinal);

        // Revoked: the reader's token no longer works.
        await Ok(cli.RunAsync(admin, "token", "revoke", readerId));
        await Exit(3, cli.RunAsync(byFlag, "cluster", "status", "--token", reader));
        await Exit(5, cli.RunAsync(admin, "token", "revoke", readerId));
    }

    private static async Task<CliResult> Ok(Task<CliResult> run) => await Exit(0, run);

    private static async Task<CliResult> Exit(int expected, Task<CliResult> run)
    {
        var result = await run;
        Assert.True(result.ExitCode == expected, $"expected exit {expected}: {result}");
        return result;
    }

    private static List<JsonElement> JsonLines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone())];
}
