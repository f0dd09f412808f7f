using System.Text.Json;
using MailCluster.Ops.Suspensions;
using MailCluster.Queue.Suspensions;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.Ops.Tests;

/// <summary>The suspension API's validation (each problem names its field) and the SQLite store (replace, end, expiry).</summary>
public sealed class SuspensionTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"mc-suspension-{Guid.NewGuid():N}");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("""[]""", "body")]
    [InlineData("""{"duration_seconds": 60, "reason": "r"}""", "domain")]
    [InlineData("""{"domain": "example.com#1", "duration_seconds": 60, "reason": "r"}""", "domain")]
    [InlineData("""{"domain": "-bad-.com", "duration_seconds": 60, "reason": "r"}""", "domain")]
    [InlineData("""{"domain": "example.com", "reason": "r"}""", "duration_seconds")]
    [InlineData("""{"domain": "example.com", "duration_seconds": "60", "reason": "r"}""", "duration_seconds")]
    [InlineData("""{"domain": "example.com", "duration_seconds": 0, "reason": "r"}""", "duration_seconds")]
    [InlineData("""{"domain": "example.com", "duration_seconds": 2592001, "reason": "r"}""", "duration_seconds")]
    [InlineData("""{"domain": "example.com", "duration_seconds": 60}""", "reason")]
    [InlineData("""{"domain": "example.com", "duration_seconds": 60, "reason": "  "}""", "reason")]
    [InlineData("""{"domain": "example.com", "duration_seconds": 60, "reason": "a\nb"}""", "reason")]
    public void A_bad_request_names_its_field(string json, string field)
    {
        using var document = JsonDocument.Parse(json);
        var (suspension, problem, named) = SuspensionApi.Parse(document.RootElement, T0);
        Assert.Null(suspension);
        Assert.False(string.IsNullOrEmpty(problem));
        Assert.Equal(field, named);
    }

    [Fact]
    public void A_good_request_is_normalised_and_ends_after_its_duration()
    {
        using var document = JsonDocument.Parse("""{"domain": "Example.COM.", "duration_seconds": 7200, "reason": " migrating "}""");
        var (suspension, _, _) = SuspensionApi.Parse(document.RootElement, T0);
        Assert.Equal(new DestinationSuspension("example.com", "migrating", T0, T0.AddHours(2)), suspension);
    }

    [Fact]
    public async Task The_sqlite_store_replaces_ends_and_forgets_ended_suspensions()
    {
        await using var store = new SqliteSuspensionStore(Path.Combine(_directory, "access.db"));
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        await store.InitializeAsync(TestContext.Current.CancellationToken); // idempotent
        var ct = TestContext.Current.CancellationToken;

        Assert.False(await store.PutAsync(new DestinationSuspension("a.example", "first", T0, T0.AddMinutes(10)), T0, ct));
        Assert.True(await store.PutAsync(new DestinationSuspension("a.example", "second", T0.AddMinutes(1), T0.AddHours(1)), T0.AddMinutes(1), ct));
        Assert.False(await store.PutAsync(new DestinationSuspension("b.example", "short", T0, T0.AddMinutes(2)), T0.AddMinutes(1), ct));
        Assert.Equal(["a.example:second", "b.example:short"], (await store.ListAsync(ct)).Select(s => $"{s.Domain}:{s.Reason}"));

        // b.example ended by itself: the next write removes it, and ending it "again" finds nothing active.
        Assert.False(await store.DeleteAsync("b.example", T0.AddMinutes(3), ct));
        Assert.Equal(["a.example"], (await store.ListAsync(ct)).Select(s => s.Domain));
        Assert.True(await store.DeleteAsync("a.example", T0.AddMinutes(3), ct));
        Assert.Empty(await store.ListAsync(ct));
    }
}
