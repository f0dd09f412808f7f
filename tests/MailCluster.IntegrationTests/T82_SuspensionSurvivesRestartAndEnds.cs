using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T82: suspending a destination domain (KumoMTA's suspend/v1) on the embedded SQLite node. relay.test is suspended
/// and split into two buckets (the suspension covers each); two messages to it wait while mail to another domain is
/// delivered, listed with no attempt. The suspension survives kill -9 and a restart (listed, and still holding mail
/// back while other mail flows). Replaced by a 3-second one through the CLI, it ends by itself and both messages are
/// delivered. A second domain suspended and resumed (CLI <c>resume</c>) delivers at once. Bad input names its field.
/// </summary>
[ParallelScenario]
public sealed class T82_SuspensionSurvivesRestartAndEnds
{
    private const string Other = "other.test";

    [Fact]
    public async Task A_suspension_holds_back_every_bucket_survives_a_restart_and_ends_by_itself()
    {
        await using var scenario = await Scenario.StartAsync([MailCluster.Testing.DnsmasqServer.Mx(Other, "mx1.relay.test", 10)]);
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Domains__Relay__1"] = Scenario.SenderDomain,
            ["MailCluster__Domains__Relay__2"] = Other,
            ["MailCluster__Queue__Buckets__0__Domain"] = Scenario.RelayDomain,
            ["MailCluster__Queue__Buckets__0__Count"] = "2",
        });
        var node = await scenario.StartNodeAsync(config, "node-t82");
        using var http = QueueApiClient.For(config);
        using var cli = new MailClusterCli();
        var env = new Dictionary<string, string> { ["MAILCLUSTER_URL"] = $"http://127.0.0.1:{config.OpsPort}", ["MAILCLUSTER_TOKEN"] = config.AdminToken };

        // Validation names the field; a domain not suspended cannot be resumed.
        await Problem(http, new { domain = "-bad-.test", duration_seconds = 60, reason = "x" }, "domain");
        await Problem(http, new { domain = "relay.test#1", duration_seconds = 60, reason = "x" }, "domain");
        await Problem(http, new { domain = "relay.test", duration_seconds = 0, reason = "x" }, "duration_seconds");
        await Problem(http, new { domain = "relay.test", duration_seconds = 31 * 86400, reason = "x" }, "duration_seconds");
        await Problem(http, new { domain = "relay.test", duration_seconds = 60, reason = "" }, "reason");
        await Problem(http, new { domain = "relay.test", duration_seconds = 60, reason = new string('r', 501) }, "reason");
        Assert.Equal("domain", (await QueueApiClient.SendAsync(http, HttpMethod.Delete, "/api/v1/suspensions/relay.test", HttpStatusCode.NotFound)).GetProperty("field").GetString());

        using (var suspend = await http.PostAsJsonAsync(new Uri("/api/v1/suspensions", UriKind.Relative), new { domain = "RELAY.test.", duration_seconds = 3600, reason = "their MX is being migrated" }))
        {
            Assert.Equal(HttpStatusCode.OK, suspend.StatusCode);
            var body = await suspend.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(Scenario.RelayDomain, body.GetProperty("suspension").GetProperty("domain").GetString());
            Assert.False(body.GetProperty("replaced").GetBoolean());
        }

        // Mail to the suspended domain waits (two messages, so both buckets are likely used); other mail flows.
        string[] waiting = [$"w1@{Scenario.RelayDomain}", $"w2@{Scenario.RelayDomain}", $"w3@{Scenario.RelayDomain}"];
        foreach (var to in waiting)
        {
            await Scenario.SendAsync(config.MxPort, Scenario.NewMessage(to, "T82 " + to));
        }

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"flows@{Other}", "T82 flows"));
        await scenario.Sink.WaitForRecipientAsync($"flows@{Other}", TimeSpan.FromSeconds(30));
        AssertWaiting(await QueueApiClient.GetJsonAsync(http, $"/api/v1/queues/{Scenario.RelayDomain}", HttpStatusCode.OK), waiting.Length);
        Assert.DoesNotContain(scenario.Sink.Messages, m => m.Recipients.Any(r => r.EndsWith("@" + Scenario.RelayDomain, StringComparison.OrdinalIgnoreCase)));

        // kill -9 and restart: still listed and still in force (read from access.db before any queue may deliver).
        node.Kill();
        node = await scenario.StartNodeAsync(config, "node-t82-restarted");
        var listed = await Ok(cli.RunAsync(env, "suspensions", "--json"));
        var suspension = Assert.Single(listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("their MX is being migrated", suspension, StringComparison.Ordinal);
        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"flows2@{Other}", "T82 flows again"));
        await scenario.Sink.WaitForRecipientAsync($"flows2@{Other}", TimeSpan.FromSeconds(30));
        await QueueApiClient.SendAsync(http, HttpMethod.Post, $"/api/v1/queues/{Scenario.RelayDomain}/flush", HttpStatusCode.OK);
        AssertWaiting(await QueueApiClient.GetJsonAsync(http, $"/api/v1/queues/{Scenario.RelayDomain}", HttpStatusCode.OK), waiting.Length);
        Assert.DoesNotContain(scenario.Sink.Messages, m => m.Recipients.Any(r => r.EndsWith("@" + Scenario.RelayDomain, StringComparison.OrdinalIgnoreCase)));

        // Replaced by a 3-second suspension (CLI), which ends by itself: everything waiting is delivered.
        var replaced = await Ok(cli.RunAsync(env, "suspend", Scenario.RelayDomain, "--for", "3s", "--reason", "almost done"));
        Assert.Contains("replaced", replaced.Stdout, StringComparison.Ordinal);
        foreach (var to in waiting)
        {
            await scenario.Sink.WaitForRecipientAsync(to, TimeSpan.FromSeconds(30));
        }

        Assert.Empty((await QueueApiClient.GetJsonAsync(http, "/api/v1/suspensions", HttpStatusCode.OK)).GetProperty("suspensions").EnumerateArray());

        // Suspend another domain, then resume it by hand: its mail goes at once.
        await Ok(cli.RunAsync(env, "suspend", Other, "--for", "2h", "--reason", "short test"));
        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"later@{Other}", "T82 later"));
        AssertWaiting(await QueueApiClient.PollAsync(http, $"/api/v1/queues/{Other}", l => l.GetProperty("total").GetInt32() == 1), 1);
        var resumed = await Ok(cli.RunAsync(env, "resume", Other));
        Assert.Contains("resumed", resumed.Stdout, StringComparison.Ordinal);
        await scenario.Sink.WaitForRecipientAsync($"later@{Other}", TimeSpan.FromSeconds(30));
        var notSuspended = await cli.RunAsync(env, "resume", Other);
        Assert.True(notSuspended.ExitCode == 5, notSuspended.ToString());
        await QueueWait.UntilEmptyAsync(config, Scenario.RelayDomain, Other);
    }

    /// <summary>Every message of the listing waits with no attempt made.</summary>
    private static void AssertWaiting(JsonElement listing, int messages)
    {
        Assert.Equal(messages, listing.GetProperty("total").GetInt32());
        Assert.All(listing.GetProperty("messages").EnumerateArray(), m =>
            Assert.All(m.GetProperty("recipients").EnumerateArray(), r => Assert.Equal(0, r.GetProperty("attempts").GetInt32())));
    }

    private static async Task Problem(HttpClient http, object body, string field)
    {
        using var response = await http.PostAsJsonAsync(new Uri("/api/v1/suspensions", UriKind.Relative), body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Equal(field, JsonDocument.Parse(text).RootElement.GetProperty("field").GetString());
    }

    private static async Task<CliResult> Ok(Task<CliResult> run)
    {
        var result = await run;
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
