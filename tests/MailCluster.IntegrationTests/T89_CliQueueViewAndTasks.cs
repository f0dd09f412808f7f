using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T89: the <c>mailcluster</c> tool's cluster-wide commands against a real node: <c>queue summary</c> (table and JSON
/// Lines), <c>message show</c> (and 5 for an unknown id), <c>flush</c> of everything, <c>bounce</c> and <c>delete</c> by
/// filter following their task to the end (--json prints the final task), and usage errors (2) for a filterless or
/// malformed bulk command.
/// </summary>
[ParallelScenario]
public sealed class T89_CliQueueViewAndTasks
{
    [Fact]
    public async Task The_cli_shows_the_cluster_view_and_runs_bulk_tasks()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.AddRule((stage, ctx) =>
            stage == SmtpStage.Rcpt && ctx.Recipient?.EndsWith("@" + Scenario.RelayDomain, StringComparison.OrdinalIgnoreCase) == true ? "450 4.2.1 mailbox busy" : null);
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
        });
        await scenario.StartNodeAsync(config, "node-t89");
        using var http = QueueApiClient.For(config);
        string alice = $"alice@{Scenario.SenderDomain}", bob = $"bob@{Scenario.SenderDomain}";
        var ids = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            var reply = await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"user{i}@{Scenario.RelayDomain}", $"T89 {i}", i < 2 ? alice : bob));
            ids.Add(reply[(reply.LastIndexOf(' ') + 1)..]);
        }

        await ViewApi.PollAsync(http, $"/api/v1/queues?domain={Scenario.RelayDomain}", s => s.GetProperty("totals").GetProperty("deferred").GetInt32() == 3);
        using var cli = new MailClusterCli();
        var admin = new Dictionary<string, string> { ["MAILCLUSTER_URL"] = $"http://127.0.0.1:{config.OpsPort}", ["MAILCLUSTER_TOKEN"] = config.AdminToken };

        var summary = await Exit(0, cli.RunAsync(admin, "queue", "summary", "--json"));
        var row = Assert.Single(JsonLines(summary.Stdout));
        Assert.Equal(Scenario.RelayDomain, row.GetProperty("queue").GetString());
        Assert.Equal(3, row.GetProperty("deferred").GetInt32());
        var table = await Exit(0, cli.RunAsync(admin, "queue", "summary", "--sort", "deferred"));
        Assert.Contains(Scenario.RelayDomain, table.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 of 1 queues; 0 pending and 3 deferred recipients", table.Stdout, StringComparison.Ordinal);
        await Exit(7, cli.RunAsync(admin, "queue", "summary", "--sort", "size"));

        var shown = await Exit(0, cli.RunAsync(admin, "message", "show", ids[0], "--json"));
        using (var json = JsonDocument.Parse(shown.Stdout))
        {
            Assert.Equal(alice, json.RootElement.GetProperty("sender").GetString());
            Assert.Equal("deferred", json.RootElement.GetProperty("recipients")[0].GetProperty("state").GetString());
        }

        Assert.Contains("450 4.2.1 mailbox busy", (await Exit(0, cli.RunAsync(admin, "message", "show", ids[0]))).Stdout, StringComparison.Ordinal);
        await Exit(5, cli.RunAsync(admin, "message", "show", "NoSuchMessage123"));

        var flushed = await Exit(0, cli.RunAsync(admin, "flush"));
        Assert.Contains("3 messages in 1 queues are due now", flushed.Stdout, StringComparison.Ordinal);

        await Exit(2, cli.RunAsync(admin, "delete"));
        await Exit(2, cli.RunAsync(admin, "bounce", "--older-than", "5x"));
        var bounced = await Exit(0, cli.RunAsync(admin, "bounce", "--sender", alice, "--json"));
        using (var task = JsonDocument.Parse(bounced.Stdout))
        {
            Assert.Equal("done", task.RootElement.GetProperty("state").GetString());
            Assert.Equal(2, task.RootElement.GetProperty("done").GetInt64());
        }

        var deleted = await Exit(0, cli.RunAsync(admin, "delete", "--domain", Scenario.RelayDomain, "--older-than", "0s"));
        Assert.Contains("1 messages deleted, 0 skipped", deleted.Stdout, StringComparison.Ordinal);
        await QueueWait.UntilEmptyAsync(config, Scenario.RelayDomain, Scenario.SenderDomain);
        Assert.Equal(2, (await scenario.Sink.WaitForMessagesAsync(2, TimeSpan.FromSeconds(30))).Count(m => m.Recipients.SequenceEqual([alice])));
    }

    private static async Task<CliResult> Exit(int expected, Task<CliResult> run)
    {
        var result = await run;
        Assert.True(result.ExitCode == expected, $"expected exit {expected}: {result}");
        return result;
    }

    private static List<JsonElement> JsonLines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone())];
}
