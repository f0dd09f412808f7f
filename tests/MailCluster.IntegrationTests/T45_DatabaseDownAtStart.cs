using System.Net;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T45: a node started while PostgreSQL is down stays up, answers /healthz/ready with 503 and the reason, keeps
/// retrying, and becomes ready by itself once the database is there (creating the schema); then it delivers.
/// </summary>
[ParallelScenario]
public class T45_DatabaseDownAtStart
{
    [Fact]
    public async Task Node_is_not_ready_until_the_database_comes()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 2);
        var node = cluster.AddNodes(1)[0];
        await cluster.Postgres.StopAsync();
        var process = NodeProcess.Start(node.Config!.Environment, "node0");
        await using (process.ConfigureAwait(false))
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var uri = new Uri($"http://127.0.0.1:{node.Config.OpsPort}/healthz/ready");
            string body = "";
            for (var i = 0; i < 60 && !body.Contains("journal", StringComparison.Ordinal); i++)
            {
                await Task.Delay(500);
                try
                {
                    using var response = await http.GetAsync(uri);
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    body = await response.Content.ReadAsStringAsync();
                }
                catch (HttpRequestException)
                {
                }
            }

            Assert.Contains("journal", body, StringComparison.Ordinal);
            Assert.Contains("spool", body, StringComparison.Ordinal);

            // The node rides out the outage: it goes on retrying the spool store (every 2 s) instead of exiting.
            var retries = Retries(process.Log);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (Retries(process.Log) < retries + 2 && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100);
            }

            Assert.False(process.HasExited);
            Assert.True(Retries(process.Log) >= retries + 2, "the node went on retrying the spool store");

            await cluster.Postgres.StartAgainAsync();
            await process.WaitReadyAsync(node.Config.OpsPort, TimeSpan.FromSeconds(60));
            var messages = ClusterHarness.Messages("t45", 5, cluster.Domains);
            var load = await SmtpLoad.RunAsync(() => [node.Config.MxPort], messages, workers: 1, TimeSpan.FromSeconds(30));
            Assert.Equal(messages.Count, load.Accepted.Count);
            var copies = await cluster.WaitForDeliveriesAsync([.. load.Accepted.Keys], TimeSpan.FromSeconds(60));
            Assert.All(messages, m => Assert.True(copies.ContainsKey(m.MessageId), $"{m.MessageId} not delivered"));
        }
    }

    private static int Retries(string log)
    {
        const string Retrying = "Spool store not reachable; retrying";
        var count = 0;
        for (var at = log.IndexOf(Retrying, StringComparison.Ordinal); at >= 0; at = log.IndexOf(Retrying, at + Retrying.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
