using Xunit;
using MailCluster.Api.Idempotency;

namespace MailCluster.Api.Tests;

/// <summary>The SQLite store on a real file: a claim, a concurrent claim, the stored answer, another body, a restart.</summary>
public sealed class IdempotencyStoreTests : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Retention = TimeSpan.FromHours(24);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mc-idem-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task ClaimReplayMismatchAndRestart()
    {
        Directory.CreateDirectory(_dir);
        using (var store = IdempotencyStore.Create(postgres: false, "", _dir, TimeProvider.System))
        {
            Assert.Equal(IdempotencyVerdict.Run, (await store.ClaimAsync("c", "k", "h1", Lease, Retention, default)).Verdict);
            Assert.Equal(IdempotencyVerdict.InProgress, (await store.ClaimAsync("c", "k", "h1", Lease, Retention, default)).Verdict);
            Assert.Equal(IdempotencyVerdict.Run, (await store.ClaimAsync("other-caller", "k", "h1", Lease, Retention, default)).Verdict);
            await store.CompleteAsync("c", "k", 200, "{\"success_count\":1}", default);
        }

        using (var restarted = IdempotencyStore.Create(postgres: false, "", _dir, TimeProvider.System))
        {
            var replay = await restarted.ClaimAsync("c", "k", "h1", Lease, Retention, default);
            Assert.Equal(IdempotencyVerdict.Replay, replay.Verdict);
            Assert.Equal("{\"success_count\":1}", replay.Stored!.Response);
            Assert.Equal(IdempotencyVerdict.Mismatch, (await restarted.ClaimAsync("c", "k", "h2", Lease, Retention, default)).Verdict);
        }
    }

    [Fact]
    public async Task ReleasedClaimCanRunAgainAndPartialKeepsItsAnswer()
    {
        Directory.CreateDirectory(_dir);
        using var store = IdempotencyStore.Create(postgres: false, "", _dir, TimeProvider.System);
        await store.ClaimAsync("c", "k", "h", Lease, Retention, default);
        await store.ReleaseAsync("c", "k", default);
        Assert.Equal(IdempotencyVerdict.Run, (await store.ClaimAsync("c", "k", "h", Lease, Retention, default)).Verdict);
        await store.CompleteAsync("c", "k", 503, "{\"queue_ids\":[\"A\",null]}", default);
        var retry = await store.ClaimAsync("c", "k", "h", Lease, Retention, default);
        Assert.Equal(IdempotencyVerdict.Run, retry.Verdict);
        Assert.Equal("{\"queue_ids\":[\"A\",null]}", retry.Stored!.Response);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
