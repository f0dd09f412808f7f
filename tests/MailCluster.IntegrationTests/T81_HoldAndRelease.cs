using System.Net;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T81: an operator's hold of one message (postsuper -h / -H) on the embedded SQLite node, through the API and the
/// built CLI, found without naming its domain. The sink first answers 451 to everything, so two messages are deferred
/// for 5 minutes; one is held. Then the sink accepts and a flush makes the queue try everything now: the control message
/// is delivered and the held one is not (still listed on-hold with its one attempt). The hold survives kill -9 and a
/// restart: another flush delivers a second control message, not the held one. Once the held message is older than
/// Retry:MaxAgeSeconds by the wall clock, it is released while the sink refuses its recipient with 451: the attempt is
/// deferred (attempt 2), not expired, because time on hold does not count towards its age. Then it is delivered.
/// </summary>
[ParallelScenario]
public sealed class T81_HoldAndRelease
{
    private const int MaxAgeSeconds = 25;

    [Fact]
    public async Task A_held_message_waits_through_a_restart_and_past_its_maximum_age_then_is_delivered_once_released()
    {
        await using var scenario = await Scenario.StartAsync();
        int accepting = 0, refuseHeld = 0;
        string held = $"held@{Scenario.RelayDomain}", control1 = $"control1@{Scenario.RelayDomain}", control2 = $"control2@{Scenario.RelayDomain}";
        scenario.Sink.AddRule((stage, ctx) =>
            stage == SmtpStage.Rcpt && Volatile.Read(ref refuseHeld) == 1 && string.Equals(ctx.Recipient, held, StringComparison.OrdinalIgnoreCase) ? "451 4.2.1 mailbox busy" : null);
        scenario.Sink.AddRule((stage, _) => stage == SmtpStage.DataEnd && Volatile.Read(ref accepting) == 0 ? "451 4.3.0 try again later" : null);
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
            ["MailCluster__Retry__MaxAgeSeconds"] = MaxAgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var node = await scenario.StartNodeAsync(config, "node-t81");
        using var http = QueueApiClient.For(config);
        using var cli = new MailClusterCli();
        var env = new Dictionary<string, string> { ["MAILCLUSTER_URL"] = $"http://127.0.0.1:{config.OpsPort}", ["MAILCLUSTER_TOKEN"] = config.AdminToken };
        string sender = $"alice@{Scenario.SenderDomain}";

        var heldId = Id(await Scenario.SendAsync(config.MxPort, Scenario.NewMessage(held, "T81 held", sender)));
        var arrived = DateTimeOffset.UtcNow;
        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage(control1, "T81 control 1", sender));
        await QueueWait.UntilAttemptedAsync(config, Scenario.RelayDomain, 1);

        // Hold from the API without the domain: the spool's references find relay.test, and its queue holds it.
        var answer = await QueueApiClient.SendAsync(http, HttpMethod.Post, $"/api/v1/messages/{heldId}/hold", HttpStatusCode.OK);
        Assert.Equal("on-hold", answer.GetProperty("status").GetString());
        var queue = Assert.Single(answer.GetProperty("queues").EnumerateArray().ToList());
        Assert.Equal((Scenario.RelayDomain, "on-hold"), (queue.GetProperty("queue").GetString(), queue.GetProperty("status").GetString()));

        // Idempotent (the CLI this time), and clear answers for a message no queue holds or a malformed id.
        var again = await Ok(cli.RunAsync(env, "message", "hold", heldId, "--json"));
        using (var json = JsonDocument.Parse(again.Stdout))
        {
            Assert.Equal("already-on-hold", json.RootElement.GetProperty("queues")[0].GetProperty("status").GetString());
        }

        var unknown = await QueueApiClient.SendAsync(http, HttpMethod.Post, $"/api/v1/messages/{Guid.NewGuid():N}/hold", HttpStatusCode.NotFound);
        Assert.Equal("id", unknown.GetProperty("field").GetString());
        Assert.Equal("id", (await QueueApiClient.SendAsync(http, HttpMethod.Post, "/api/v1/messages/bad*id/hold", HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        var missing = await cli.RunAsync(env, "message", "release", Guid.NewGuid().ToString("N"));
        Assert.True(missing.ExitCode == 5, missing.ToString());

        // The sink accepts now and a flush makes every deferred recipient due: the control message goes, the held one not.
        Volatile.Write(ref accepting, 1);
        await QueueApiClient.SendAsync(http, HttpMethod.Post, $"/api/v1/queues/{Scenario.RelayDomain}/flush", HttpStatusCode.OK);
        await scenario.Sink.WaitForRecipientAsync(control1, TimeSpan.FromSeconds(30));
        AssertOnHold(await QueueWait.UntilAttemptedAsync(config, Scenario.RelayDomain, 1), heldId);
        Assert.DoesNotContain(scenario.Sink.Messages, m => m.Recipients.Contains(held, StringComparer.OrdinalIgnoreCase));

        // kill -9 and restart: the hold is in the journal. A new message and a flush go through; the held one stays.
        node.Kill();
        node = await scenario.StartNodeAsync(config, "node-t81-restarted");
        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage(control2, "T81 control 2", sender));
        await scenario.Sink.WaitForRecipientAsync(control2, TimeSpan.FromSeconds(30));
        await QueueApiClient.SendAsync(http, HttpMethod.Post, $"/api/v1/queues/{Scenario.RelayDomain}/flush", HttpStatusCode.OK);
        var listing = await QueueApiClient.PollAsync(http, $"/api/v1/queues/{Scenario.RelayDomain}", l => l.GetProperty("total").GetInt32() == 1);
        AssertOnHold(listing, heldId);
        Assert.DoesNotContain(scenario.Sink.Messages, m => m.Recipients.Contains(held, StringComparer.OrdinalIgnoreCase));

        // Past its maximum age by the wall clock, released while its recipient is refused with 451: deferred, not expired.
        var pastMaxAge = arrived.AddSeconds(MaxAgeSeconds + 2) - DateTimeOffset.UtcNow;
        if (pastMaxAge > TimeSpan.Zero)
        {
            await Task.Delay(pastMaxAge);
        }

        Volatile.Write(ref refuseHeld, 1);
        var released = await Ok(cli.RunAsync(env, "message", "release", heldId));
        Assert.Contains($"message {heldId} released", released.Stdout, StringComparison.Ordinal);
        var deferred = await QueueWait.UntilAttemptedAsync(config, Scenario.RelayDomain, 2);
        var recipient = deferred.GetProperty("messages")[0].GetProperty("recipients")[0];
        Assert.Equal("pending", recipient.GetProperty("state").GetString());
        Assert.Contains("451 4.2.1", recipient.GetProperty("lastError").GetString(), StringComparison.Ordinal);

        // Accepted now: delivered once, and the sender never got a DSN (nothing expired).
        Volatile.Write(ref refuseHeld, 0);
        await QueueApiClient.SendAsync(http, HttpMethod.Post, $"/api/v1/queues/{Scenario.RelayDomain}/flush", HttpStatusCode.OK);
        await scenario.Sink.WaitForRecipientAsync(held, TimeSpan.FromSeconds(30));
        await QueueWait.UntilEmptyAsync(config, Scenario.RelayDomain, Scenario.SenderDomain);
        Assert.Single(scenario.Sink.Messages, m => m.Recipients.Contains(held, StringComparer.OrdinalIgnoreCase));
        Assert.DoesNotContain(scenario.Sink.Messages, m => m.Recipients.Contains(sender, StringComparer.OrdinalIgnoreCase));
    }

    private static void AssertOnHold(JsonElement listing, string id)
    {
        var message = Assert.Single(listing.GetProperty("messages").EnumerateArray().ToList(), m => m.GetProperty("id").GetString() == id);
        var recipient = Assert.Single(message.GetProperty("recipients").EnumerateArray().ToList());
        Assert.Equal("on-hold", recipient.GetProperty("state").GetString());
        Assert.Equal(1, recipient.GetProperty("attempts").GetInt32());
    }

    private static string Id(string reply) => reply[(reply.LastIndexOf(' ') + 1)..];

    private static async Task<CliResult> Ok(Task<CliResult> run)
    {
        var result = await run;
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
