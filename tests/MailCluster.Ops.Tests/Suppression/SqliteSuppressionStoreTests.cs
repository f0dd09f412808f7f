using MailCluster.Ops.Suppression;
using MailCluster.Queue.Suppression;
using Xunit;

namespace MailCluster.Ops.Tests.Suppression;

/// <summary>The SQLite table against a real file: scopes as keys, the change counter, expiry pruning.</summary>
public sealed class SqliteSuppressionStoreTests : IAsyncDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("mc-suppression-").FullName;
    private readonly SqliteSuppressionStore _store;

    public SqliteSuppressionStoreTests() => _store = new SqliteSuppressionStore(Path.Combine(_dir, "access.db"));

    [Fact]
    public async Task Entries_are_keyed_by_address_and_scope_and_every_change_moves_the_version()
    {
        var ct = TestContext.Current.CancellationToken;
        await _store.InitializeAsync(ct);
        await _store.InitializeAsync(ct); // idempotent
        var v0 = await _store.VersionAsync(ct);

        await _store.UpsertAsync(new SuppressionEntry("x@example.com", null, "bounce", "Q1", T0, T0.AddDays(30)), ct);
        await _store.UpsertAsync(new SuppressionEntry("x@example.com", "alice", "asked", "api", T0, T0.AddDays(5)), ct);
        await _store.UpsertAsync(new SuppressionEntry("x@example.com", null, "bounce again", "Q2", T0, T0.AddDays(30)), ct);
        var v1 = await _store.VersionAsync(ct);

        var entries = (await _store.ActiveAsync(T0, ct)).OrderBy(e => e.Credential).ToList();
        Assert.Equal(2, entries.Count);
        Assert.Equal(("bounce again", "Q2"), (entries[0].Reason, entries[0].Source));
        Assert.Equal(("alice", T0.AddDays(5)), (entries[1].Credential, entries[1].ExpiresAt));
        Assert.Equal(v0 + 3, v1);

        Assert.True(await _store.RemoveAsync("x@example.com", "alice", ct));
        Assert.False(await _store.RemoveAsync("x@example.com", "alice", ct));
        Assert.Null(Assert.Single(await _store.ActiveAsync(T0, ct)).Credential);
        Assert.True(await _store.VersionAsync(ct) > v1);
    }

    [Fact]
    public async Task Expired_entries_are_neither_read_nor_kept()
    {
        var ct = TestContext.Current.CancellationToken;
        await _store.InitializeAsync(ct);
        await _store.UpsertAsync(new SuppressionEntry("old@example.com", null, "r", "s", T0, T0.AddDays(1)), ct);
        await _store.UpsertAsync(new SuppressionEntry("new@example.com", null, "r", "s", T0, T0.AddDays(30)), ct);

        Assert.Equal("new@example.com", Assert.Single(await _store.ActiveAsync(T0.AddDays(1), ct)).Address);
        Assert.Single(await _store.ActiveAsync(T0, ct)); // pruned, not merely hidden
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
