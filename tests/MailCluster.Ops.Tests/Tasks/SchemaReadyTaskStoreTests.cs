using MailCluster.Ops.Tasks;
using Xunit;

namespace MailCluster.Ops.Tests.Tasks;

/// <summary>The task routes answer before the runner first touches the store: the table must exist by then.</summary>
public sealed class SchemaReadyTaskStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mc-tasks-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_fresh_database_answers_every_call_without_an_explicit_initialization()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = TaskStoreFactory.Create(postgres: false, "", _dir);

        Assert.Empty(await store.ListAsync(10, ct));
        Assert.Null(await store.GetAsync("task-unknown", ct));

        var now = DateTimeOffset.UtcNow;
        await store.CreateAsync(new BulkTask("task-1", BulkAction.Delete, new BulkTaskFilter("example.com", null, null, null),
            BulkTaskStates.Running, 0, 0, "node-a", 0, now, now, "admin", null), ct);
        await store.InitializeAsync(ct); // the runner's call stays harmless
        Assert.Equal("task-1", Assert.Single(await store.ListAsync(10, ct)).Id);
    }
}
