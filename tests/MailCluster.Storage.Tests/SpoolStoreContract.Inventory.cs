using MailCluster.Queue.Spool;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>The listings the orphan sweep pages through (<see cref="ISpoolInventory"/>), on each real provider.</summary>
public abstract partial class SpoolStoreContract
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    /// <summary>Sets a stored body's creation time, as if it had been written then.</summary>
    protected abstract Task SetCreatedAtAsync(string location, string messageId, DateTimeOffset createdAt);

    [Fact]
    public async Task Old_committed_bodies_are_listed_oldest_first_page_by_page_with_their_remaining_references()
    {
        var location = await NewLocationAsync();
        await using var store = await OpenAsync(location);
        foreach (var (id, hoursAgo) in new[] { ("c", 3), ("b", 5), ("a", 5), ("d", 2), ("young", 0) })
        {
            await store.WriteAsync(id, Body(10, 1), ["B.example", "a.example"], Ct);
            await store.CommitAsync(id, Ct);
            if (hoursAgo > 0)
            {
                await SetCreatedAtAsync(location, id, Now.AddHours(-hoursAgo));
            }
        }

        await store.WriteAsync("uncommitted", Body(10, 2), ["a.example"], Ct);
        await SetCreatedAtAsync(location, "uncommitted", Now.AddHours(-6));
        await store.ReleaseAsync("b", "a.example", Ct);

        var first = await store.ListOldReferencesAsync(TimeSpan.FromHours(1), null, 2, Ct);
        Assert.Equal(["a", "b"], first.Bodies.Select(b => b.MessageId)); // same age: by id
        Assert.Equal(["a.example", "b.example"], first.Bodies[0].Domains);
        Assert.Equal(["b.example"], first.Bodies[1].Domains); // a.example was released
        Assert.Equal(Now.AddHours(-5), first.Bodies[0].CreatedAt);
        Assert.Equal(new SpoolAgeCursor(Now.AddHours(-5), "b"), first.Next);

        var second = await store.ListOldReferencesAsync(TimeSpan.FromHours(1), first.Next, 2, Ct);
        Assert.Equal(["c", "d"], second.Bodies.Select(b => b.MessageId));
        Assert.NotNull(second.Next); // a full page may have more after it
        var last = await store.ListOldReferencesAsync(TimeSpan.FromHours(1), second.Next, 2, Ct);
        Assert.Empty(last.Bodies);
        Assert.Null(last.Next);

        // The age is a bound: 2.5 hours leaves out the body written 2 hours ago; a short page is the last one.
        var older = await store.ListOldReferencesAsync(TimeSpan.FromHours(2.5), null, 10, Ct);
        Assert.Equal(["a", "b", "c"], older.Bodies.Select(b => b.MessageId));
        Assert.Null(older.Next);
    }

    [Fact]
    public async Task Releasing_behind_the_cursor_does_not_disturb_the_next_page()
    {
        var location = await NewLocationAsync();
        await using var store = await OpenAsync(location);
        for (var i = 0; i < 6; i++)
        {
            await store.WriteAsync($"m{i}", Body(10, i), ["example.com"], Ct);
            await store.CommitAsync($"m{i}", Ct);
            await SetCreatedAtAsync(location, $"m{i}", Now.AddMinutes(-120 + i));
        }

        var seen = new List<string>();
        SpoolAgeCursor? cursor = null;
        do
        {
            var page = await store.ListOldReferencesAsync(TimeSpan.FromHours(1), cursor, 4, Ct);
            foreach (var body in page.Bodies)
            {
                seen.Add(body.MessageId);
                await store.ReleaseAsync(body.MessageId, "example.com", Ct);
            }

            cursor = page.Next;
        }
        while (cursor is not null);

        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"m{i}"), seen);
        foreach (var id in seen)
        {
            Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync(id, Ct)).Status);
        }

        Assert.Empty((await store.ListOldReferencesAsync(TimeSpan.Zero, null, 10, Ct)).Bodies);
    }

    [Fact]
    public async Task Old_uncommitted_bodies_are_listed_with_their_references_and_nothing_else()
    {
        var location = await NewLocationAsync();
        await using var store = await OpenAsync(location);
        await store.WriteAsync("failed", Body(10, 1), ["y.example", "x.example"], Ct);
        await SetCreatedAtAsync(location, "failed", Now.AddHours(-2));
        await store.WriteAsync("accepting", Body(10, 2), ["x.example"], Ct); // young: an acceptance under way
        await store.WriteAsync("accepted", Body(10, 3), ["x.example"], Ct);
        await store.CommitAsync("accepted", Ct);
        await SetCreatedAtAsync(location, "accepted", Now.AddHours(-3));

        var page = await store.ListOldUncommittedAsync(TimeSpan.FromHours(1), null, 10, Ct);

        var body = Assert.Single(page.Bodies);
        Assert.Equal(("failed", Now.AddHours(-2)), (body.MessageId, body.CreatedAt));
        Assert.Equal(["x.example", "y.example"], body.Domains);
        Assert.Null(page.Next);

        await store.DeleteUncommittedAsync("failed", Ct);
        Assert.Empty((await store.ListOldUncommittedAsync(TimeSpan.FromHours(1), null, 10, Ct)).Bodies);
        Assert.Equal(["accepted"], (await store.ListOldReferencesAsync(TimeSpan.FromHours(1), null, 10, Ct)).Bodies.Select(b => b.MessageId));
    }
}
