using MailCluster.Queue.Spool;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="ISpoolStore"/> owes its callers, run against each real provider by a
/// subclass. Each test gets a fresh, empty store location (file or database).
/// </summary>
public abstract partial class SpoolStoreContract
{
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A fresh, empty location (SQLite path or PostgreSQL connection string).</summary>
    protected abstract Task<string> NewLocationAsync();

    /// <summary>Opens (and initialises) a store over <paramref name="location"/>.</summary>
    protected abstract Task<GroupCommitSpoolStore> OpenAsync(string location, GroupCommitOptions? options = null);

    [Fact]
    public async Task Write_is_readable_as_uncommitted_with_the_exact_bytes()
    {
        await using var store = await OpenAsync(await NewLocationAsync());
        var body = Body(100_000, seed: 1);

        await store.WriteAsync("m1", body, ["example.com"], Ct);

        var entry = await store.ReadAsync("m1", Ct);
        Assert.Equal(SpoolStatus.Uncommitted, entry.Status);
        Assert.Equal(body, entry.Body.ToArray());
    }

    [Fact]
    public async Task Commit_makes_the_body_committed_with_the_exact_bytes()
    {
        await using var store = await OpenAsync(await NewLocationAsync());
        var body = Body(4096, seed: 2);
        await store.WriteAsync("m1", body, ["example.com"], Ct);

        await store.CommitAsync("m1", Ct);
        await store.CommitAsync("m1", Ct); // idempotent

        var entry = await store.ReadAsync("m1", Ct);
        Assert.Equal(SpoolStatus.Committed, entry.Status);
        Assert.Equal(body, entry.Body.ToArray());
    }

    [Fact]
    public async Task Missing_message_reads_as_missing_and_cannot_be_committed()
    {
        await using var store = await OpenAsync(await NewLocationAsync());

        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("nope", Ct)).Status);
        await Assert.ThrowsAsync<SpoolMessageNotFoundException>(() => store.CommitAsync("nope", Ct));
        await store.PingAsync(Ct);
    }

    [Fact]
    public async Task Release_deletes_the_body_only_after_the_last_domain()
    {
        await using var store = await OpenAsync(await NewLocationAsync());
        await store.WriteAsync("m1", Body(10, 3), ["a.example", "B.example", "a.example"], Ct);
        await store.CommitAsync("m1", Ct);

        await store.ReleaseAsync("m1", "a.example", Ct);
        await store.ReleaseAsync("m1", "a.example", Ct); // idempotent: b still holds it
        Assert.Equal(SpoolStatus.Committed, (await store.ReadAsync("m1", Ct)).Status);

        await store.ReleaseAsync("m1", "b.EXAMPLE", Ct); // domains compare case-insensitively
        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("m1", Ct)).Status);
        await store.ReleaseAsync("m1", "b.example", Ct); // idempotent once gone
    }

    [Fact]
    public async Task DeleteUncommitted_removes_uncommitted_bodies_and_never_committed_ones()
    {
        await using var store = await OpenAsync(await NewLocationAsync());
        await store.WriteAsync("failed", Body(10, 4), ["example.com"], Ct);
        await store.WriteAsync("accepted", Body(10, 5), ["example.com"], Ct);
        await store.CommitAsync("accepted", Ct);

        await store.DeleteUncommittedAsync("failed", Ct);
        await store.DeleteUncommittedAsync("failed", Ct); // idempotent
        await store.DeleteUncommittedAsync("accepted", Ct);
        await store.DeleteUncommittedAsync("never-written", Ct);

        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("failed", Ct)).Status);
        Assert.Equal(SpoolStatus.Committed, (await store.ReadAsync("accepted", Ct)).Status);

        // The committed body's reference survived too: releasing it still deletes it.
        await store.ReleaseAsync("accepted", "example.com", Ct);
        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("accepted", Ct)).Status);

        // The id of a deleted uncommitted body is free again (its references went with it).
        await store.WriteAsync("failed", Body(10, 6), ["example.com"], Ct);
    }

    [Fact]
    public async Task Duplicate_id_fails_and_leaves_the_first_body_alone()
    {
        await using var store = await OpenAsync(await NewLocationAsync());
        var first = Body(100, 7);
        await store.WriteAsync("m1", first, ["example.com"], Ct);

        await Assert.ThrowsAsync<DuplicateMessageIdException>(() => store.WriteAsync("m1", Body(100, 8), ["other.example"], Ct));

        Assert.Equal(first, (await store.ReadAsync("m1", Ct)).Body.ToArray());
    }

    [Fact]
    public async Task Duplicates_in_one_batch_fail_alone()
    {
        await using var store = await OpenAsync(await NewLocationAsync());
        var tasks = Enumerable.Range(0, 20)
            .Select(i => store.WriteAsync(i % 2 == 0 ? "same" : $"m{i}", Body(10, i), ["example.com"], Ct))
            .ToList();

        await Task.WhenAll(tasks.Where((_, i) => i % 2 == 1));
        var same = tasks.Where((_, i) => i % 2 == 0).ToList();
        await Assert.ThrowsAnyAsync<Exception>(() => Task.WhenAll(same));
        Assert.Equal(1, same.Count(t => t.IsCompletedSuccessfully));
        Assert.All(same.Where(t => t.IsFaulted), t => Assert.IsType<DuplicateMessageIdException>(t.Exception!.InnerException));
    }

    [Fact]
    public async Task Concurrent_writers_all_complete_and_share_transactions()
    {
        await using var store = await OpenAsync(await NewLocationAsync());
        var before = store.BatchesCommitted;

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => store.WriteAsync($"m{i}", Body(1000, i), ["example.com"], Ct))));

        var batches = store.BatchesCommitted - before;
        Assert.InRange(batches, 1, 199);
        for (var i = 0; i < 200; i++)
        {
            var entry = await store.ReadAsync($"m{i}", Ct);
            Assert.Equal(SpoolStatus.Uncommitted, entry.Status);
            Assert.Equal(Body(1000, i), entry.Body.ToArray());
        }
    }

    [Fact]
    public async Task Batches_respect_the_operation_bound()
    {
        await using var store = await OpenAsync(await NewLocationAsync(), new GroupCommitOptions { MaxBatchOperations = 4 });
        var gate = HoldBatchContaining(store, "gate");
        var first = store.WriteAsync("gate", Body(1, 0), ["example.com"], Ct);
        await gate.Entered;

        var queued = Enumerable.Range(0, 10).Select(i => store.WriteAsync($"m{i}", Body(1, i), ["example.com"], Ct)).ToList();
        await WaitUntilQueuedAsync();
        gate.Release();
        await first;
        await Task.WhenAll(queued);

        Assert.Equal(1 + 3, store.BatchesCommitted); // gate, then 4 + 4 + 2
    }

    [Fact]
    public async Task A_failing_batch_faults_only_its_callers_and_applies_nothing()
    {
        await using var store = await OpenAsync(await NewLocationAsync());
        await store.WriteAsync("old", Body(10, 1), ["example.com"], Ct);
        var gate = HoldBatchContaining(store, "gate", poison: "poison");
        var first = store.WriteAsync("gate", Body(10, 2), ["example.com"], Ct);
        await gate.Entered;

        // These queue up behind the held batch and form the next one together.
        var victims = new[]
        {
            store.WriteAsync("a", Body(10, 3), ["example.com"], Ct),
            store.WriteAsync("poison", Body(10, 4), ["example.com"], Ct),
            store.CommitAsync("old", Ct),
            store.ReleaseAsync("old", "example.com", Ct),
        };
        await WaitUntilQueuedAsync();
        gate.Release();

        await first;
        foreach (var victim in victims)
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => victim);
            Assert.Equal("injected failure", error.Message);
        }

        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("a", Ct)).Status);
        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("poison", Ct)).Status);
        Assert.Equal(SpoolStatus.Uncommitted, (await store.ReadAsync("old", Ct)).Status); // neither commit nor release applied
        Assert.Equal(SpoolStatus.Uncommitted, (await store.ReadAsync("gate", Ct)).Status);
        Assert.Equal(1, store.BatchesFailed);

        // The store carries on.
        await store.WriteAsync("a", Body(10, 3), ["example.com"], Ct);
        Assert.Equal(SpoolStatus.Uncommitted, (await store.ReadAsync("a", Ct)).Status);
    }

    [Fact]
    public async Task Cancelled_calls_apply_nothing()
    {
        await using var store = await OpenAsync(await NewLocationAsync());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.WriteAsync("m1", Body(10, 1), ["example.com"], cancelled.Token));

        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("m1", Ct)).Status);
    }

    [Fact]
    public async Task Everything_persists_across_reopening_the_store()
    {
        var location = await NewLocationAsync();
        var body = Body(50_000, 9);
        await using (var store = await OpenAsync(location))
        {
            await store.WriteAsync("kept", body, ["a.example", "b.example"], Ct);
            await store.CommitAsync("kept", Ct);
            await store.ReleaseAsync("kept", "a.example", Ct);
            await store.WriteAsync("pending", body, ["a.example"], Ct);
        }

        await using var reopened = await OpenAsync(location);
        var kept = await reopened.ReadAsync("kept", Ct);
        Assert.Equal(SpoolStatus.Committed, kept.Status);
        Assert.Equal(body, kept.Body.ToArray());
        Assert.Equal(SpoolStatus.Uncommitted, (await reopened.ReadAsync("pending", Ct)).Status);
        await reopened.ReleaseAsync("kept", "b.example", Ct); // the surviving reference is the one left
        Assert.Equal(SpoolStatus.Missing, (await reopened.ReadAsync("kept", Ct)).Status);
    }

    [Fact]
    public async Task Dispose_applies_what_is_queued_then_refuses_new_calls()
    {
        var location = await NewLocationAsync();
        var store = await OpenAsync(location);
        var pending = Enumerable.Range(0, 50).Select(i => store.WriteAsync($"m{i}", Body(10, i), ["example.com"], Ct)).ToList();

        await store.DisposeAsync();

        await Task.WhenAll(pending);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.CommitAsync("m0", Ct));
        await using var reopened = await OpenAsync(location);
        Assert.Equal(SpoolStatus.Uncommitted, (await reopened.ReadAsync("m49", Ct)).Status);
    }

    protected static byte[] Body(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Holds the batch containing <paramref name="gateId"/> open; fails any batch containing <paramref name="poison"/>.</summary>
    private static BatchGate HoldBatchContaining(GroupCommitSpoolStore store, string gateId, string? poison = null)
    {
        var gate = new BatchGate();
        store.BeforeCommitForTests = async ops =>
        {
            if (ops.Any(op => op.MessageId == gateId))
            {
                gate.SignalEntered();
                await gate.Released;
            }

            if (poison is not null && ops.Any(op => op.MessageId == poison))
            {
                throw new InvalidOperationException("injected failure");
            }
        };
        return gate;
    }

    /// <summary>The calls above were enqueued synchronously up to the channel; give stragglers a moment.</summary>
    private static Task WaitUntilQueuedAsync() => Task.Delay(200, Ct);

    private sealed class BatchGate
    {
        private readonly TaskCompletionSource entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => entered.Task;

        public Task Released => released.Task;

        public void SignalEntered() => entered.TrySetResult();

        public void Release() => released.TrySetResult();
    }
}
