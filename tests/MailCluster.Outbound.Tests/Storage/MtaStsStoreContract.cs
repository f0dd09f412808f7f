using MailCluster.Outbound.MtaSts;

namespace MailCluster.Outbound.Tests.Storage;

/// <summary><c>mc_mta_sts_policy</c>, the cluster's MTA-STS policy cache, against a real database: SQLite for the
/// embedded node, PostgreSQL for a cluster. Both must keep the same policy.</summary>
public abstract class MtaStsStoreContract
{
    private static readonly DateTimeOffset Fetched = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_123);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A store over a fresh, empty database; <paramref name="same"/> opens another store (another node) on the
    /// database of the previous call.</summary>
    protected abstract Task<IMtaStsStore> OpenAsync(bool same = false);

    [Fact]
    public async Task A_policy_is_kept_and_replaced_whole_and_read_by_another_node()
    {
        await using var node1 = await OpenAsync();
        await using var node2 = await OpenAsync(same: true);
        Assert.Null(await node2.GetAsync("example.com", Ct));

        var first = new StoredMtaStsPolicy("example.com", "20261206", "version: STSv1\r\nmode: enforce\r\nmx: *.example.com\r\nmax_age: 86400\r\n",
            Fetched, Fetched.AddDays(1));
        await node1.PutAsync(first, Ct);
        Assert.Equal(first, await node2.GetAsync("example.com", Ct));

        var second = first with { Id = "20261207", Text = "version: STSv1\r\nmode: testing\r\nmx: mx.example.com\r\nmax_age: 600\r\n", FetchedAt = Fetched.AddHours(1), ExpiresAt = Fetched.AddHours(1).AddMinutes(10) };
        await node2.PutAsync(second, Ct);
        Assert.Equal(second, await node1.GetAsync("example.com", Ct));
        Assert.Null(await node1.GetAsync("other.example", Ct));
    }

    [Fact]
    public async Task Nodes_starting_together_create_the_table_once()
    {
        var stores = new List<IMtaStsStore> { await OpenAsync() };
        for (int i = 0; i < 3; i++)
        {
            stores.Add(await OpenAsync(same: true));
        }

        try
        {
            await Task.WhenAll(stores.Select(s => s.InitializeAsync(Ct)));
            var policy = new StoredMtaStsPolicy("example.net", "1", "version: STSv1\r\nmode: none\r\nmax_age: 60\r\n", Fetched, Fetched.AddMinutes(1));
            await stores[0].PutAsync(policy, Ct);
            Assert.All(await Task.WhenAll(stores.Select(s => s.GetAsync("example.net", Ct))), p => Assert.Equal(policy, p));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }
}

public sealed class SqliteMtaStsStoreTests : MtaStsStoreContract, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mc-mtasts-" + Guid.NewGuid().ToString("N")[..8]);
    private string _path = "";
    private int _count;

    protected override Task<IMtaStsStore> OpenAsync(bool same = false)
    {
        if (!same)
        {
            _path = Path.Combine(_dir, $"{Interlocked.Increment(ref _count)}-{SqliteMtaStsStore.FileName}");
        }

        return Task.FromResult<IMtaStsStore>(new SqliteMtaStsStore(_path));
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

[Collection(PostgresGroup.Name)]
public sealed class PostgresMtaStsStoreTests(PostgresDatabases databases) : MtaStsStoreContract
{
    private string _database = "";

    protected override async Task<IMtaStsStore> OpenAsync(bool same = false)
    {
        if (!same)
        {
            _database = await databases.NewAsync("mtasts");
        }

        return new PostgresMtaStsStore(_database);
    }
}
