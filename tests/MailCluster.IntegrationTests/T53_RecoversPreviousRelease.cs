using System.Globalization;
using System.Text;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T53 (issue #13, the stored format is a contract): the journal and spool written by release 8fbe274
/// (<c>tests/fixtures/release-8fbe274</c>, recreated by its <c>make.sh</c>: ten messages to relay.test, other.test and
/// hot.test split into four buckets, each deferred once by a 4xx sink, the node then stopped with SIGTERM or killed)
/// are copied into a fresh data directory; today's node starts on them with the same bucket configuration and the sink
/// now accepting. Every message of the fixture's manifest arrives with its sender and each of its recipients exactly
/// once, and nothing else arrives; the queues end empty (so no later duplicate can come).
/// </summary>
[ParallelScenario]
public class T53_RecoversPreviousRelease
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("sigterm")]
    [InlineData("kill9")]
    public async Task Mail_queued_by_the_previous_release_is_delivered_exactly_once(string fixture)
    {
        var release = ReleaseFixture.Open("release-8fbe274", fixture);
        var manifest = release.Manifest;
        Assert.Equal(10, manifest.Count);

        await using var scenario = await Scenario.StartAsync(
        [
            DnsmasqServer.Mx("hot.test", "mx1.relay.test", 10),
            DnsmasqServer.Mx("other.test", "mx1.relay.test", 10),
        ]);
        release.CopyTo(scenario.DataDir, "journal.db", "spool.db");

        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Domains__Relay__1"] = "hot.test",
            ["MailCluster__Domains__Relay__2"] = "other.test",
            ["MailCluster__Queue__Buckets__0__Domain"] = "hot.test",
            ["MailCluster__Queue__Buckets__0__Count"] = "4",

            // The fixture's mail arrived when make.sh ran; it must not expire however old the fixture is.
            ["MailCluster__Retry__MaxAgeSeconds"] = "3153600000",
        });
        var node = await scenario.StartNodeAsync(config);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{config.OpsPort}"), Timeout = TimeSpan.FromSeconds(20) };

        var expected = manifest.SelectMany(m => m.Recipients).Order(StringComparer.Ordinal).ToList();
        await WaitForAsync(() => Task.FromResult(Delivered(scenario.Sink).Count >= expected.Count), "every fixture recipient delivered", node);
        await WaitForAsync(async () => QueuesEmpty(PrometheusText.Parse(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)))),
            "the domain queues empty", node);

        var received = scenario.Sink.Messages;
        Assert.Equal(expected, Delivered(scenario.Sink).Order(StringComparer.Ordinal));
        foreach (var message in manifest)
        {
            var copies = received.Where(r => ReleaseFixture.Subject(r.Data) == message.Subject).ToList();
            Assert.All(copies, r => Assert.Equal(message.Sender, r.MailFrom));
            Assert.Equal(message.Recipients.Order(StringComparer.Ordinal), copies.SelectMany(r => r.Recipients).Order(StringComparer.Ordinal));
        }

        Assert.All(received, r => Assert.Contains(manifest, m => m.Subject == ReleaseFixture.Subject(r.Data)));
    }

    private static List<string> Delivered(ScriptedSmtpServer sink) => [.. sink.Messages.SelectMany(m => m.Recipients)];

    /// <summary>Every queue on the node answered and holds nothing, and nothing is being delivered.</summary>
    private static bool QueuesEmpty(Dictionary<string, double> metrics) =>
        metrics.GetValueOrDefault("mailcluster_queue_recipients", -1) == 0
        && metrics.GetValueOrDefault("mailcluster_queue_deliveries_in_flight", -1) == 0
        && metrics.GetValueOrDefault("mailcluster_queue_status_unanswered") == 0;

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what, NodeProcess node)
    {
        var deadline = DateTime.UtcNow + Settle;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not {what} within {Settle.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s; node log:\n{node.Tail(200)}");
            await Task.Delay(250);
        }
    }
}
