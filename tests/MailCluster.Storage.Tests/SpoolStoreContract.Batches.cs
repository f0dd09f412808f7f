using MailCluster.Queue.Spool;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>
/// Many calls of one kind in ONE batch (held together behind a gate): each call still gets its own answer, as if the
/// batch applied them one by one. PostgreSQL applies such a batch with one statement per kind of call, so these pin
/// down that the rejection of one call neither fails nor loses the others.
/// </summary>
public abstract partial class SpoolStoreContract
{
    [Fact]
    public async Task A_commit_flag_for_a_missing_body_fails_alone_in_a_batch_of_commits()
    {
        await using var store = await OpenAsync(await NewLocationAsync());
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => store.WriteAsync($"m{i}", Body(10, i), ["example.com"], Ct)).Append(
            store.WriteAsync("gate", Body(1, 0), ["example.com"], Ct)));
        var gate = HoldBatchContaining(store, "gate");
        var first = store.CommitAsync("gate", Ct);
        await gate.Entered;

        var commits = Enumerable.Range(0, 10).Select(i => store.CommitAsync($"m{i}", Ct)).ToList();
        var missing = store.CommitAsync("missing", Ct);
        await WaitUntilQueuedAsync();
        gate.Release();
        await first;

        await Task.WhenAll(commits);
        await Assert.ThrowsAsync<SpoolMessageNotFoundException>(() => missing);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(SpoolStatus.Committed, (await store.ReadAsync($"m{i}", Ct)).Status);
        }
    }

    [Fact]
    public async Task A_write_of_an_id_already_stored_fails_alone_in_a_batch_of_writes()
    {
        await using var store = await OpenAsync(await NewLocationAsync());
        var stored = Body(50, 99);
        await store.WriteAsync("m3", stored, ["example.com"], Ct);
        var gate = HoldBatchContaining(store, "gate");
        var first = store.WriteAsync("gate", Body(1, 0), ["example.com"], Ct);
        await gate.Entered;

        var writes = Enumerable.Range(0, 8).Select(i => store.WriteAsync($"m{i}", Body(50, i), ["a.example", "b.example"], Ct)).ToList();
        await WaitUntilQueuedAsync();
        gate.Release();
        await first;

        await Assert.ThrowsAsync<DuplicateMessageIdException>(() => writes[3]);
        await Task.WhenAll(writes.Where((_, i) => i != 3));
        Assert.Equal(stored, (await store.ReadAsync("m3", Ct)).Body.ToArray());
        for (var i = 0; i < 8; i++)
        {
            if (i != 3)
            {
                await store.CommitAsync($"m{i}", Ct);
                Assert.Equal(Body(50, i), (await store.ReadAsync($"m{i}", Ct)).Body.ToArray());
                await store.ReleaseAsync($"m{i}", "a.example", Ct);
                Assert.Equal(SpoolStatus.Committed, (await store.ReadAsync($"m{i}", Ct)).Status); // b.example still holds it
            }
        }
    }

    [Fact]
    public async Task Releases_in_one_batch_delete_exactly_the_bodies_whose_last_reference_went()
    {
        await using var store = await OpenAsync(await NewLocationAsync());
        foreach (var id in new[] { "both", "one", "kept" })
        {
            await store.WriteAsync(id, Body(10, id.Length), ["a.example", "b.example"], Ct);
            await store.CommitAsync(id, Ct);
        }

        await store.WriteAsync("gate", Body(1, 0), ["example.com"], Ct);
        await store.CommitAsync("gate", Ct);
        var gate = HoldBatchContaining(store, "gate");
        var first = store.ReleaseAsync("gate", "example.com", Ct);
        await gate.Entered;

        var releases = new[]
        {
            store.ReleaseAsync("both", "a.example", Ct),
            store.ReleaseAsync("both", "b.example", Ct),
            store.ReleaseAsync("one", "a.example", Ct),
            store.ReleaseAsync("one", "b.example", Ct),
            store.ReleaseAsync("kept", "b.example", Ct),
            store.ReleaseAsync("never-written", "a.example", Ct),
        };
        await WaitUntilQueuedAsync();
        gate.Release();
        await first;
        await Task.WhenAll(releases);

        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("both", Ct)).Status);
        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("one", Ct)).Status);
        Assert.Equal(SpoolStatus.Committed, (await store.ReadAsync("kept", Ct)).Status);
        await store.ReleaseAsync("kept", "a.example", Ct);
        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("kept", Ct)).Status);
    }
}
