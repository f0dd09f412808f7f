using MailCluster.Queue.Spool;
using MailCluster.Storage;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>
/// The embedded spool's <see cref="ISpoolStore.WriteCommittedAsync"/>: below the file threshold one operation, so one
/// transaction for the row, its references and the commit flag; a duplicate id commits nothing; a body kept as a file
/// takes the two steps and ends committed too.
/// </summary>
public sealed class SqliteWriteCommittedTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"mc-spoolwc-{Guid.NewGuid():N}");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_small_body_is_written_committed_in_one_batch_with_its_references()
    {
        await using var store = await OpenAsync(fileThreshold: 0);
        var batches = store.BatchesCommitted;

        Assert.True(store.WritesCommittedAtOnce(1_000_000));
        await store.WriteCommittedAsync("m1", "Subject: t\r\n\r\nhi\r\n"u8.ToArray(), ["One.Example", "two.example"], Ct);

        Assert.Equal(batches + 1, store.BatchesCommitted);
        var entry = await store.ReadAsync("m1", Ct);
        Assert.Equal(SpoolStatus.Committed, entry.Status);
        Assert.Equal("Subject: t\r\n\r\nhi\r\n"u8.ToArray(), entry.Body.ToArray());

        // Both references were written with it: the body stays until the last domain releases it.
        await store.ReleaseAsync("m1", "one.example", Ct);
        Assert.Equal(SpoolStatus.Committed, (await store.ReadAsync("m1", Ct)).Status);
        await store.ReleaseAsync("m1", "two.example", Ct);
        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("m1", Ct)).Status);
    }

    [Fact]
    public async Task A_duplicate_id_is_refused_and_commits_nothing()
    {
        await using var store = await OpenAsync(fileThreshold: 0);
        await store.WriteAsync("m1", "first"u8.ToArray(), ["example.com"], Ct);

        await Assert.ThrowsAsync<DuplicateMessageIdException>(() => store.WriteCommittedAsync("m1", "second"u8.ToArray(), ["example.com"], Ct));

        var entry = await store.ReadAsync("m1", Ct);
        Assert.Equal(SpoolStatus.Uncommitted, entry.Status);
        Assert.Equal("first"u8.ToArray(), entry.Body.ToArray());
    }

    [Fact]
    public async Task A_body_at_the_file_threshold_takes_two_steps_and_ends_committed()
    {
        await using var store = await OpenAsync(fileThreshold: 100);
        var body = new byte[100];
        Random.Shared.NextBytes(body);

        Assert.True(store.WritesCommittedAtOnce(99));
        Assert.False(store.WritesCommittedAtOnce(100));
        await store.WriteCommittedAsync("big", body, ["example.com"], Ct);

        var entry = await store.ReadAsync("big", Ct);
        Assert.Equal(SpoolStatus.Committed, entry.Status);
        Assert.Equal(body, entry.Body.ToArray());
    }

    private async Task<SqliteSpoolStore> OpenAsync(int fileThreshold)
    {
        Directory.CreateDirectory(directory);
        var store = new SqliteSpoolStore(Path.Combine(directory, "spool.db"), fileThreshold: fileThreshold);
        await store.InitializeAsync(Ct);
        return store;
    }
}
