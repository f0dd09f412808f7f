using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Queue.Sweep;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace MailCluster.Queue.Tests.Sweep;

/// <summary>A whole sweep run over a real SQLite spool, with the domain queues' answers scripted.</summary>
public sealed class OrphanSweepTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"mc-sweep-{Guid.NewGuid():N}");
    private readonly QueueMetrics _metrics = new(Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.NewCustomRegistry()));
    private readonly List<FindHeldMessages> _questions = [];
    private SqliteSpoolStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = new SqliteSpoolStore(Path.Combine(_directory, "spool.db"));
        await _store.InitializeAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Releases_what_no_queue_holds_and_leaves_held_young_and_unanswered_mail_alone()
    {
        foreach (var id in new[] { "o1", "o2", "o3", "held", "young" })
        {
            await CommittedAsync(id, "a.test");
        }

        await CommittedAsync("split", "a.test", "silent.test");
        await _store.WriteAsync("failed", new byte[10], ["a.test"], Ct); // uncommitted: acceptance and its clean-up failed
        await _store.WriteAsync("abandoning", new byte[10], ["a.test"], Ct);
        foreach (var id in new[] { "o1", "o2", "o3", "held", "split", "failed", "abandoning" })
        {
            await AgeAsync(id, TimeSpan.FromHours(2));
        }

        var sweep = NewSweep(new OrphanSweepOptions { MinAgeSeconds = 3600, PageSize = 2 }, q => q.Domain switch
        {
            "silent.test" => throw new TimeoutException("no answer in time"),
            _ => new HeldMessages(q.Domain, [.. q.MessageIds.Where(id => id is "held" or "abandoning")]),
        });

        var report = await sweep.RunAsync(Ct);

        Assert.Equal((7, 8, 4, 1), (report.Bodies, report.References, report.Released, report.Deleted));
        Assert.Equal((2, 1, 0), (report.Held, report.Undecided, report.Failed));
        foreach (var gone in new[] { "o1", "o2", "o3", "failed" })
        {
            Assert.Equal(SpoolStatus.Missing, (await _store.ReadAsync(gone, Ct)).Status);
        }

        Assert.Equal(SpoolStatus.Committed, (await _store.ReadAsync("held", Ct)).Status);
        Assert.Equal(SpoolStatus.Committed, (await _store.ReadAsync("young", Ct)).Status);
        Assert.Equal(SpoolStatus.Uncommitted, (await _store.ReadAsync("abandoning", Ct)).Status);

        // "split" lost its a.test reference; silent.test's stays until that queue answers.
        var split = Assert.Single((await _store.ListOldReferencesAsync(TimeSpan.FromHours(1), null, 10, Ct)).Bodies, b => b.MessageId == "split");
        Assert.Equal(["silent.test"], split.Domains);

        // Bounded: one page of at most 2 bodies per question, never "young".
        Assert.All(_questions, q => Assert.InRange(q.MessageIds.Count, 1, 2));
        Assert.DoesNotContain(_questions, q => q.MessageIds.Contains("young"));
        Assert.Equal(4, _metrics.SweepReferencesReleased.Value);
        Assert.Equal(1, _metrics.SweepBodiesDeleted.Value);
        Assert.Equal(1, _metrics.SweepQueuesUnanswered.Value);
        Assert.Equal(1, _metrics.SweepRuns(succeeded: true).Value);
        Assert.True(_metrics.SweepLastSuccess.Value > 0);

        // A second run finds nothing more to do; releases are idempotent anyway.
        var again = await NewSweep(new OrphanSweepOptions { MinAgeSeconds = 3600 }, q => new HeldMessages(q.Domain, [.. q.MessageIds.Where(id => id is "held" or "abandoning")]))
            .RunAsync(Ct);
        Assert.Equal((1, 0), (again.Released, again.Deleted)); // split's silent.test reference, now answered
        Assert.Equal(SpoolStatus.Missing, (await _store.ReadAsync("split", Ct)).Status);
    }

    [Fact]
    public async Task A_split_domain_asks_the_domain_and_every_bucket()
    {
        await CommittedAsync("m1", "hot.test");
        await AgeAsync("m1", TimeSpan.FromHours(2));
        var buckets = new DomainBuckets(new Dictionary<string, int> { ["hot.test"] = 3 });
        var sweep = NewSweep(new OrphanSweepOptions { MinAgeSeconds = 3600 }, q => new HeldMessages(q.Domain, q.Domain == "hot.test#2" ? ["m1"] : []), buckets);

        var report = await sweep.RunAsync(Ct);

        Assert.Equal(["hot.test", "hot.test#0", "hot.test#1", "hot.test#2"], _questions.Select(q => q.Domain).Order(StringComparer.Ordinal));
        Assert.Equal((0, 1), (report.Released, report.Held));
        Assert.Equal(SpoolStatus.Committed, (await _store.ReadAsync("m1", Ct)).Status);
    }

    [Fact]
    public async Task A_spool_that_cannot_be_read_fails_the_run_and_counts_it()
    {
        var sweep = new OrphanSweep(new UnreadableInventory(), _store, (q, _) => Task.FromResult(new HeldMessages(q.Domain, [])), DomainBuckets.None,
            new OrphanSweepOptions(), _metrics, NullLogger.Instance);

        await Assert.ThrowsAsync<InvalidOperationException>(() => sweep.RunAsync(Ct));

        Assert.Equal(1, _metrics.SweepRuns(succeeded: false).Value);
        Assert.Equal(0, _metrics.SweepRuns(succeeded: true).Value);
    }

    private OrphanSweep NewSweep(OrphanSweepOptions options, Func<FindHeldMessages, HeldMessages> answer, DomainBuckets? buckets = null) =>
        new(_store, _store, (q, _) =>
        {
            lock (_questions)
            {
                _questions.Add(q);
            }

            return Task.FromResult(answer(q));
        }, buckets ?? DomainBuckets.None, options, _metrics, NullLogger.Instance);

    private async Task CommittedAsync(string id, params string[] domains)
    {
        await _store.WriteAsync(id, new byte[10], domains, Ct);
        await _store.CommitAsync(id, Ct);
    }

    private async Task AgeAsync(string id, TimeSpan age)
    {
        await using var connection = await _store.OpenConnectionAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE mc_spool SET created_at = created_at - $ms WHERE message_id = $id";
        command.Parameters.AddWithValue("$ms", (long)age.TotalMilliseconds);
        command.Parameters.AddWithValue("$id", id);
        Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
    }

    private sealed class UnreadableInventory : ISpoolInventory
    {
        public Task<AgedBodyPage> ListOldReferencesAsync(TimeSpan minAge, SpoolAgeCursor? after, int limit, CancellationToken cancellationToken) =>
            Task.FromException<AgedBodyPage>(new InvalidOperationException("database is down (test)"));

        public Task<AgedBodyPage> ListOldUncommittedAsync(TimeSpan minAge, SpoolAgeCursor? after, int limit, CancellationToken cancellationToken) =>
            ListOldReferencesAsync(minAge, after, limit, cancellationToken);
    }
}
