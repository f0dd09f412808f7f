using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T49: on the embedded SQLite store, the code that blocks in fsync runs on threads of its own: the spool's group
/// commit on "spool writer", the journal, its write stream and the snapshot store on the one thread of the
/// "mailcluster.sqlite-journal-dispatcher". The .NET thread pool, which runs the SMTP sessions, never waits on the
/// disk (docs/BENCHMARKS.md, performance pass 3). Read from the node process's own thread list after it queued mail.
/// </summary>
[ParallelScenario]
public class T49_SqliteWritersOffThePool
{
    [Fact]
    public async Task Spool_and_journal_writes_run_on_their_own_threads()
    {
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig();
        var node = await scenario.StartNodeAsync(config);

        await ScenarioMail.SendManyAsync(
            config.MxPort,
            Enumerable.Range(1, 20).Select(i => Scenario.NewMessage($"u{i}@{Scenario.RelayDomain}", $"T49 #{i}")).ToList());
        await scenario.Sink.WaitForMessagesAsync(20, TimeSpan.FromSeconds(60));

        var threads = Directory.GetDirectories($"/proc/{node.Id}/task")
            .Select(task => (Name: File.ReadAllText(Path.Combine(task, "comm")).Trim(), CpuNanoseconds: CpuTime(task)))
            .ToList();
        var names = string.Join(", ", threads.Select(t => t.Name).Distinct());

        // Linux keeps 15 characters of a thread name.
        var spool = Assert.Single(threads, t => t.Name == "spool writer");
        var journal = Assert.Single(threads, t => t.Name.StartsWith("mailcluster.sql", StringComparison.Ordinal));
        Assert.True(spool.CpuNanoseconds > 0, $"the spool writer never ran ({names})");
        Assert.True(journal.CpuNanoseconds > 0, $"the journal dispatcher never ran ({names})");
    }

    /// <summary>The first field of schedstat: nanoseconds the thread has run.</summary>
    private static long CpuTime(string task) =>
        long.Parse(File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
}
