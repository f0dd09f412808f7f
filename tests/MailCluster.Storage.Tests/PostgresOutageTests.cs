using MailCluster.Queue.Spool;
using MailCluster.Storage;
using Npgsql;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>The spool while its PostgreSQL server is down and after it returns (own server: this class stops it).</summary>
public sealed class PostgresOutageTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Calls_fail_while_the_database_is_down_and_work_again_after()
    {
        await using var store = new PostgresSpoolStore(await postgres.NewDatabaseAsync());
        await store.InitializeAsync(Ct);
        await store.WriteAsync("before", new byte[] { 1 }, ["example.com"], Ct);

        await postgres.Server.StopAsync();
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => store.PingAsync(Ct));
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => store.WriteAsync("during", new byte[] { 2 }, ["example.com"], Ct));

        await postgres.Server.StartAgainAsync();
        await RetryAsync(() => store.PingAsync(Ct)); // pooled connections to the old server fail once each
        await RetryAsync(() => store.WriteAsync("after", new byte[] { 3 }, ["example.com"], Ct));

        Assert.Equal(SpoolStatus.Uncommitted, (await store.ReadAsync("before", Ct)).Status);
        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("during", Ct)).Status);
        Assert.Equal(SpoolStatus.Uncommitted, (await store.ReadAsync("after", Ct)).Status);
    }

    private static async Task RetryAsync(Func<Task> action)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await action();
                return;
            }
            catch (NpgsqlException) when (attempt < 10)
            {
                await Task.Delay(200, Ct);
            }
        }
    }
}
