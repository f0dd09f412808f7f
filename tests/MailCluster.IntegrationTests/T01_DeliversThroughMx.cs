using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T01: a message sent with MailKit to a relay domain is delivered to the SMTP sink that the node finds
/// through MX records served by dnsmasq on loopback; the sink receives the exact bytes sent, apart from the
/// added Received header. Once with the embedded SQLite default, once on a real PostgreSQL server.
/// </summary>
[ParallelScenario]
public class T01_DeliversThroughMx
{
    [Fact]
    public async Task Delivers_with_embedded_sqlite()
    {
        await using var scenario = await Scenario.StartAsync();
        await DeliverAndCompareAsync(scenario, scenario.NewNodeConfig());

        // The embedded journal runs in WAL mode; SQLite's default synchronous level for every connection that
        // Microsoft.Data.Sqlite opens (the journal's included) is FULL, so each commit is fsync'd.
        await using var journal = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(scenario.DataDir, "journal.db")}");
        await journal.OpenAsync();
        await using var pragma = journal.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string?)await pragma.ExecuteScalarAsync());
        pragma.CommandText = "PRAGMA synchronous;";
        Assert.Equal(2L, (long?)await pragma.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Delivers_with_postgresql()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync("mailcluster_t01");
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Storage__Provider"] = "PostgreSql",
            ["MailCluster__Storage__ConnectionString"] = connectionString,
        });
        await DeliverAndCompareAsync(scenario, config);
    }

    private static async Task DeliverAndCompareAsync(Scenario scenario, NodeConfig config)
    {
        var node = await scenario.StartNodeAsync(config);

        // The listeners open only once the journal and the spool have run their first statements (issue 18, target 3).
        var warmUp = System.Text.RegularExpressions.Regex.Match(node.Log, @"Durable path warm-up before the listeners open: journal \d+ ms, spool \d+ ms");
        Assert.True(warmUp.Success, "no warm-up line: " + node.Tail(40));
        Assert.True(warmUp.Index < node.Log.IndexOf("Now listening on", StringComparison.Ordinal), "the listeners opened before the warm-up ended");

        var message = Scenario.NewMessage($"alice@{Scenario.RelayDomain}", "T01");

        var reply = await Scenario.SendAsync(config.MxPort, message);
        var sent = Scenario.WireBytes(message);

        Assert.StartsWith("2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        var received = await scenario.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("sender@example.org", received.MailFrom);
        Assert.Equal([$"alice@{Scenario.RelayDomain}"], received.Recipients);
        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(sent, received.Data);
    }
}
