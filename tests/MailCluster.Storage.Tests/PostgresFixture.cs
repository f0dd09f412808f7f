using MailCluster.Testing;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>One real PostgreSQL server per test class; each test takes a fresh database from it.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private int databases;

    public PostgresServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }

    public Task<string> NewDatabaseAsync() => Server.CreateDatabaseAsync($"spool_{Interlocked.Increment(ref databases)}");
}
