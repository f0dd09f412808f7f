using MailCluster.Testing;

namespace MailCluster.Outbound.Tests.Storage;

/// <summary>One real PostgreSQL server (started by the harness) for the outbound tables' tests; each test takes a
/// database of its own, as each cluster has.</summary>
public sealed class PostgresDatabases : IAsyncLifetime
{
    private int _count;

    private PostgresServer? _server;

    public async ValueTask InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    public Task<string> NewAsync(string prefix) =>
        _server!.CreateDatabaseAsync($"{prefix}_{Interlocked.Increment(ref _count)}");
}

[CollectionDefinition(Name)]
public sealed class PostgresGroup : ICollectionFixture<PostgresDatabases>
{
    public const string Name = "outbound-postgres";
}
