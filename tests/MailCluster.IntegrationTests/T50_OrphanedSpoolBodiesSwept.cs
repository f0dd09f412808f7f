using System.Globalization;
using System.Text.RegularExpressions;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T50: spool bodies that nothing would ever release are swept, and nothing a queue still holds is touched.
/// <para>The orphan is made for real, with no seam in the node: a trigger in the spool file makes every release of a
/// reference of <c>orphan.test</c> fail, so after a message there is delivered its release waits in the node's
/// in-memory retry; the node is then killed with SIGKILL (the retry dies with it) and the trigger dropped. A second
/// message, to <c>relay.test</c>, is deferred by the sink's 451 to RCPT and stays queued (retries 5 minutes apart). One more
/// body is the state a failed acceptance leaves when its clean-up failed too (uncommitted, referenced by a queue that
/// never persisted it), written into the spool file while the node is down.</para>
/// <para>After a restart with a 2-second sweep and a 10-second minimum age, the delivered message's body and the
/// uncommitted one disappear, but only after two runs: the first run that finds them un-held only suspects them
/// (logged, and counted by <c>mailcluster_spool_sweep_suspects</c>), the next confirms. The deferred message keeps its
/// body through every run, and is delivered byte for byte when the sink accepts and the queue is flushed, after which
/// its own release removes its body.</para>
/// </summary>
public partial class T50_OrphanedSpoolBodiesSwept
{
    private const string OrphanDomain = "orphan.test";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Orphaned_bodies_are_swept_while_queued_mail_keeps_its_body()
    {
        await using var scenario = await Scenario.StartAsync([DnsmasqServer.Mx(OrphanDomain, "mx1.relay.test", 10)]);
        var accepting = false;
        string held = $"held@{Scenario.RelayDomain}", gone = $"gone@{OrphanDomain}";
        scenario.Sink.AddRule((stage, context) => stage == SmtpStage.Rcpt && !Volatile.Read(ref accepting)
            && string.Equals(context.Recipient, held, StringComparison.OrdinalIgnoreCase) ? "451 4.3.0 mailbox busy, try later" : null);
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Domains__Relay__1"] = OrphanDomain,
            ["MailCluster__Retry__InitialSeconds"] = "300",
            ["MailCluster__Retry__MaxSeconds"] = "600",
            ["MailCluster__Queue__OrphanSweep__Enabled"] = "false",
        });
        var spoolPath = Path.Combine(scenario.DataDir, "spool.db");
        var node = await scenario.StartNodeAsync(config, "node-t50");
        await ExecuteUntilAsync(spoolPath, """
            CREATE TRIGGER t50_refuse_release BEFORE DELETE ON mc_spool_ref WHEN old.domain = 'orphan.test'
            BEGIN SELECT RAISE(ABORT, 'T50: release refused'); END
            """);

        var queuedMessage = Scenario.NewMessage(held, "T50 queued");
        var queued = QueueId(await Scenario.SendAsync(config.MxPort, queuedMessage));
        await node.WaitForLogAsync($"{queued}: to=<{held}>, status=deferred", Wait);
        var orphan = QueueId(await Scenario.SendAsync(config.MxPort, Scenario.NewMessage(gone, "T50 orphan")));
        await scenario.Sink.WaitForRecipientAsync(gone, Wait);
        await node.WaitForLogAsync($"Releasing spool body {orphan} for {OrphanDomain} failed", Wait);
        node.Kill();

        await SpoolFile.ExecuteAsync(spoolPath, "DROP TRIGGER t50_refuse_release");
        Assert.Equal([OrphanDomain], await SpoolFile.ReferencesAsync(spoolPath, orphan)); // the leak: delivered, still referenced
        Assert.Equal([Scenario.RelayDomain], await SpoolFile.ReferencesAsync(spoolPath, queued));
        const string Uncommitted = "0000000000000000000000000000F41D";
        await SpoolFile.ExecuteAsync(spoolPath, $"""
            INSERT INTO mc_spool(message_id, body, committed, created_at) VALUES('{Uncommitted}', x'0d0a', 0, {DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds()});
            INSERT INTO mc_spool_ref(message_id, domain) VALUES('{Uncommitted}', '{Scenario.RelayDomain}');
            """);

        config.Environment["MailCluster__Queue__OrphanSweep__Enabled"] = "true";
        config.Environment["MailCluster__Queue__OrphanSweep__FirstRunSeconds"] = "1";
        config.Environment["MailCluster__Queue__OrphanSweep__IntervalSeconds"] = "2";
        config.Environment["MailCluster__Queue__OrphanSweep__MinAgeSeconds"] = "10";
        config.Environment["MailCluster__Queue__CommitGraceSeconds"] = "2";
        config.Environment["MailCluster__Queue__EnqueueTimeoutSeconds"] = "3";
        var restarted = await scenario.StartNodeAsync(config, "node-t50-restarted");

        await PollAsync(async () => (await SpoolFile.ReferencesAsync(spoolPath, orphan)) is null && (await SpoolFile.ReferencesAsync(spoolPath, Uncommitted)) is null,
            "the orphaned bodies were not swept", restarted);

        // The first run to find an orphan released nothing, only suspected (the orphan may not have been old enough for
        // it yet, the uncommitted body was); the run that released the orphan had it from the run before. The deferred
        // message was older than the orphan, so that run asked its queue about it too.
        // The node's console is written in 50 ms batches: the sweep's line can follow the swept rows by that much.
        for (var until = DateTime.UtcNow.AddSeconds(10); !ReleasedLine().IsMatch(restarted.Log) && DateTime.UtcNow < until;)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        var first = SweepLine().Match(restarted.Log);
        Assert.Matches(SuspectedLine(), first.Value);
        Assert.Matches(ReleasedLine(), restarted.Log[first.Index..]);
        Assert.Equal([Scenario.RelayDomain], await SpoolFile.ReferencesAsync(spoolPath, queued));
        using var http = QueueApiClient.For(config);
        var runs = await SpoolFile.CompletedSweepsAsync(http);
        await PollAsync(async () => await SpoolFile.CompletedSweepsAsync(http) >= runs + 2, "the sweep stopped running", restarted);
        Assert.Equal([Scenario.RelayDomain], await SpoolFile.ReferencesAsync(spoolPath, queued));
        var metrics = PrometheusText.Parse(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        Assert.Equal(1, metrics["mailcluster_spool_sweep_references_released_total"]);
        Assert.Equal(1, metrics["mailcluster_spool_sweep_bodies_deleted_total"]);
        Assert.Equal(0, metrics["mailcluster_spool_sweep_runs_total{result=\"failed\"}"]);
        Assert.Equal(0, metrics["mailcluster_spool_sweep_queues_unanswered_total"]);
        Assert.Equal(0, metrics["mailcluster_spool_sweep_suspects"]);

        // The queued message is delivered intact once the sink accepts, and its own release then frees its body.
        Volatile.Write(ref accepting, true);
        using (var flush = await http.PostAsync(new Uri($"/api/v1/queues/{Scenario.RelayDomain}/flush", UriKind.Relative), null))
        {
            Assert.True(flush.IsSuccessStatusCode, $"flush answered {(int)flush.StatusCode}");
        }

        var delivered = await scenario.Sink.WaitForRecipientAsync(held, Wait);
        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(queuedMessage), delivered.Data);
        await PollAsync(async () => await SpoolFile.ReferencesAsync(spoolPath, queued) is null, "the delivered message's body was not released", restarted);
        Assert.Single(scenario.Sink.Messages, m => m.Recipients.Contains(held, StringComparer.OrdinalIgnoreCase));
    }

    private static string QueueId(string reply) => reply[(reply.LastIndexOf(' ') + 1)..];

    /// <summary>Runs <paramref name="sql"/> once the node has created the spool schema.</summary>
    private static async Task ExecuteUntilAsync(string spoolPath, string sql)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            try
            {
                await SpoolFile.ExecuteAsync(spoolPath, sql);
                return;
            }
            catch (SqliteException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    [GeneratedRegex(@"Spool sweep: \d+ bodies older than 10 s [^\n]*")]
    private static partial Regex SweepLine();

    [GeneratedRegex(@"; 0 orphaned references released, 0 orphaned uncommitted bodies deleted \(of 0 suspects carried from the previous run\), [12] suspects carried to the next run for confirmation")]
    private static partial Regex SuspectedLine();

    [GeneratedRegex(@"Spool sweep: \d+ bodies older than 10 s with \d+ references checked; 1 orphaned references released, [01] orphaned uncommitted bodies deleted "
        + @"\(of [12] suspects carried from the previous run\), [01] suspects carried to the next run for confirmation \(0 more not kept\), 1 references still held by their queues, 0 left")]
    private static partial Regex ReleasedLine();

    private static Task PollAsync(Func<Task<bool>> condition, string failure, NodeProcess node) =>
        SpoolFile.PollAsync(condition, failure, node, Wait);
}
