using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Storage;
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
    public async Task Releases_what_no_queue_holds_in_two_runs_and_leaves_held_young_and_unanswered_mail_alone()
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

        var silent = true;
        var sweep = NewSweep(new OrphanSweepOptions { MinAgeSeconds = 3600, PageSize = 2 }, q => q.Queue.EntityId switch
        {
            "silent.test" when silent => throw new TimeoutException("no answer in time"),
            _ => new HeldMessages(q.Queue.EntityId, [.. q.MessageIds.Where(id => id is "held" or "abandoning")]),
        });

        // Run 1 only suspects: nothing is released or deleted on one "nobody holds it".
        var first = await sweep.RunAsync(Ct);
        Assert.Equal((7, 8, 0, 0), (first.Bodies, first.References, first.Released, first.Deleted));
        Assert.Equal((0, 5), (first.Carried, first.Suspects)); // o1..o3, split's a.test reference, "failed"
        Assert.Equal(5, _metrics.SweepSuspects.Value);
        Assert.Equal(SpoolStatus.Committed, (await _store.ReadAsync("o1", Ct)).Status);
        Assert.Equal(SpoolStatus.Uncommitted, (await _store.ReadAsync("failed", Ct)).Status);

        // Run 2 confirms them.
        var report = await sweep.RunAsync(Ct);

        Assert.Equal((7, 8, 4, 1), (report.Bodies, report.References, report.Released, report.Deleted));
        Assert.Equal((2, 1, 0), (report.Held, report.Undecided, report.Failed));
        Assert.Equal((5, 0), (report.Carried, report.Suspects));
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
        Assert.Equal(2, _metrics.SweepQueuesUnanswered.Value);
        Assert.Equal(2, _metrics.SweepRuns(succeeded: true).Value);
        Assert.Equal(0, _metrics.SweepSuspects.Value);
        Assert.True(_metrics.SweepLastSuccess.Value > 0);

        // Once silent.test answers, its reference is suspected, then released; releases are idempotent anyway.
        silent = false;
        Assert.Equal((0, 0, 1), Outcome(await sweep.RunAsync(Ct)));
        Assert.Equal((1, 0, 0), Outcome(await sweep.RunAsync(Ct)));
        Assert.Equal(SpoolStatus.Missing, (await _store.ReadAsync("split", Ct)).Status);
    }

    [Fact]
    public async Task A_split_domain_asks_the_domain_every_configured_bucket_and_every_bucket_found_running()
    {
        await CommittedAsync("m1", "hot.test");
        await CommittedAsync("m2", "hot.test");
        await AgeAsync("m1", TimeSpan.FromHours(2));
        await AgeAsync("m2", TimeSpan.FromHours(2));
        var buckets = new DomainBuckets(new Dictionary<string, int> { ["hot.test"] = 3 });

        // The count was lowered from 8 to 3: bucket #6 still runs and holds m1.
        var sweep = NewSweep(
            new OrphanSweepOptions { MinAgeSeconds = 3600 },
            q => new HeldMessages(q.Queue.EntityId, q.Queue.EntityId == "hot.test#6" ? ["m1"] : []),
            domain => new QueueEntitySet(QueueEntities.Merge(buckets, domain, [6]), []));

        await sweep.RunAsync(Ct);
        var report = await sweep.RunAsync(Ct);

        Assert.Equal(["hot.test", "hot.test#0", "hot.test#1", "hot.test#2", "hot.test#6"], _questions.Select(q => q.Queue.EntityId).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal((1, 1), (report.Released, report.Held));
        Assert.Equal(SpoolStatus.Committed, (await _store.ReadAsync("m1", Ct)).Status);
        Assert.Equal(SpoolStatus.Missing, (await _store.ReadAsync("m2", Ct)).Status);
    }

    [Fact]
    public async Task A_domain_whose_buckets_could_not_all_be_found_is_skipped_run_after_run()
    {
        await CommittedAsync("m1", "hot.test");
        await CommittedAsync("m2", "cold.test");
        await AgeAsync("m1", TimeSpan.FromHours(2));
        await AgeAsync("m2", TimeSpan.FromHours(2));
        var sweep = NewSweep(
            new OrphanSweepOptions { MinAgeSeconds = 3600 },
            q => new HeldMessages(q.Queue.EntityId, []),
            domain => domain == "hot.test"
                ? new QueueEntitySet(["hot.test", "hot.test#0"], ["akka.tcp://mailcluster@10.0.0.2:4053"])
                : new QueueEntitySet([domain], []));

        var reports = new List<SweepReport>();
        for (var run = 0; run < 3; run++)
        {
            reports.Add(await sweep.RunAsync(Ct));
        }

        Assert.DoesNotContain(_questions, q => q.Queue.EntityId.StartsWith("hot.test", StringComparison.Ordinal));
        Assert.Equal(SpoolStatus.Committed, (await _store.ReadAsync("m1", Ct)).Status);
        Assert.Equal(SpoolStatus.Missing, (await _store.ReadAsync("m2", Ct)).Status);
        Assert.All(reports, r => Assert.Equal((1, 1), (r.Skipped, r.SkippedDomains)));
        Assert.Equal(3, _metrics.SweepDomainsSkipped.Value);
    }

    [Fact]
    public async Task A_failing_discovery_skips_the_domain_and_the_run_goes_on()
    {
        await CommittedAsync("m1", "hot.test");
        await AgeAsync("m1", TimeSpan.FromHours(2));
        var sweep = NewSweep(
            new OrphanSweepOptions { MinAgeSeconds = 3600 },
            q => new HeldMessages(q.Queue.EntityId, []),
            _ => throw new InvalidOperationException("coordinator gone (test)"));

        await sweep.RunAsync(Ct);
        var report = await sweep.RunAsync(Ct);

        Assert.Empty(_questions);
        Assert.Equal((0, 1), (report.Released, report.Skipped));
        Assert.Equal(SpoolStatus.Committed, (await _store.ReadAsync("m1", Ct)).Status);
    }

    [Fact]
    public async Task A_spool_that_cannot_be_read_fails_the_run_and_counts_it()
    {
        var sweep = new OrphanSweep(new UnreadableInventory(), _store, (q, _) => Task.FromResult(new HeldMessages(q.Queue.EntityId, [])),
            (d, _) => Task.FromResult(new QueueEntitySet([d], [])), new OrphanSweepOptions(), _metrics, NullLogger.Instance);

        await Assert.ThrowsAsync<InvalidOperationException>(() => sweep.RunAsync(Ct));

        Assert.Equal(1, _metrics.SweepRuns(succeeded: false).Value);
        Assert.Equal(0, _metrics.SweepRuns(succeeded: true).Value);
    }

    [Fact]
    public async Task Body_files_no_row_names_are_deleted_once_old_and_the_file_of_a_live_row_never()
    {
        // A crash between a body file's fsync and its row's commit leaves a file no row names (SpoolBodyFiles).
        var location = Path.Combine(_directory, "files", "spool.db");
        await using var store = new SqliteSpoolStore(location, fileThreshold: 1);
        await store.InitializeAsync(Ct);
        await store.WriteAsync("live", Enumerable.Repeat((byte)'x', 100).ToArray(), ["a.test"], Ct);
        await store.CommitAsync("live", Ct);
        var bodies = SqliteSpoolStore.BodyDirectoryOf(location);
        var orphan = Path.Combine(bodies, Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(orphan, new byte[100], Ct);
        foreach (var file in Directory.GetFiles(bodies))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(-2));
        }

        var sweep = new OrphanSweep(
            store,
            store,
            (q, _) => Task.FromResult(new HeldMessages(q.Queue.EntityId, [.. q.MessageIds])),
            (domain, _) => Task.FromResult(new QueueEntitySet([domain], [])),
            new OrphanSweepOptions { MinAgeSeconds = 3600 },
            _metrics,
            NullLogger.Instance);

        var report = await sweep.RunAsync(Ct);

        Assert.Equal(1, report.OrphanFiles);
        Assert.False(File.Exists(orphan));
        Assert.Equal(Enumerable.Repeat((byte)'x', 100).ToArray(), (await store.ReadAsync("live", Ct)).Body.ToArray());
    }

    private static (int Released, int Deleted, int Suspects) Outcome(SweepReport report) => (report.Released, report.Deleted, report.Suspects);

    private OrphanSweep NewSweep(OrphanSweepOptions options, Func<FindHeldMessages, HeldMessages> answer, Func<string, QueueEntitySet>? discover = null) =>
        new(_store, _store, (q, _) =>
        {
            lock (_questions)
            {
                _questions.Add(q);
            }

            return Task.FromResult(answer(q));
        }, (domain, _) => Task.FromResult((discover ?? (d => new QueueEntitySet([d], [])))(domain)), options, _metrics, NullLogger.Instance);

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
