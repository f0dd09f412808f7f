using MailCluster.Outbound.TlsRpt;

namespace MailCluster.Outbound.Tests.Storage;

/// <summary>The cluster's TLS-RPT tables against a real database (SQLite for the embedded node, PostgreSQL for a
/// cluster): counts from several flushes add up, a report is claimed once per domain and period, and a claim left
/// "sending" by a node that died is taken over by exactly one other node once its lease has run out.</summary>
public abstract class TlsRptStoreContract
{
    private const long Lease = 900_000;
    private static readonly TlsRptKey Ok = new(86400, "example.com", "sts", "policy", "success", "mx.example.com", "192.0.2.1");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A store over a fresh, empty database; <paramref name="same"/>: another node on the previous one.</summary>
    protected abstract Task<TlsRptStore> OpenAsync(bool same = false);

    [Fact]
    public async Task Counts_add_up_and_a_report_is_claimed_once()
    {
        await using var store = await OpenAsync();
        var bad = Ok with { Result = "certificate-expired" };
        await store.AddAsync([new(Ok, 2), new(bad, 1)], Ct);
        await store.AddAsync([new(Ok, 3)], Ct);
        await store.AddAsync([new(Ok with { PeriodStart = 2 * 86400 }, 1)], Ct);

        var counts = await store.CountsAsync(86400, "example.com", Ct);
        Assert.Equal(5, counts.Single(c => c.Result == "success").Count);
        Assert.Equal(1, counts.Single(c => c.Result == "certificate-expired").Count);

        Assert.Equal([(86400L, "example.com", (TlsRptClaimRow?)null)], await store.UnreportedAsync(2 * 86400, 86400, Ct));
        Assert.True(await store.TryClaimAsync(86400, "example.com", "node-a", 1, null, Ct));
        Assert.False(await store.TryClaimAsync(86400, "example.com", "node-b", 2, null, Ct));
        Assert.Equal(new TlsRptClaimRow("node-a", "sending", 1), Assert.Single(await store.UnreportedAsync(2 * 86400, 86400, Ct)).Claim);

        await store.FinishAsync(86400, "example.com", "node-a", 1, null, 3, Ct); // released: tried again later
        Assert.True(await store.TryClaimAsync(86400, "example.com", "node-b", 4, null, Ct));
        await store.FinishAsync(86400, "example.com", "node-b", 4, "sent", 5, Ct);
        Assert.Empty(await store.UnreportedAsync(2 * 86400, 86400, Ct));
    }

    [Fact]
    public async Task A_claim_left_sending_is_taken_over_by_one_node_after_its_lease()
    {
        await using var crashed = await OpenAsync();
        await crashed.AddAsync([new(Ok, 1)], Ct);
        Assert.True(await crashed.TryClaimAsync(86400, "example.com", "node-a", 1_000, null, Ct));
        // node-a renews once while sending, then dies without finishing.
        Assert.True(await crashed.RenewAsync(86400, "example.com", "node-a", 1_000, 5_000, Ct));

        var nodes = new List<TlsRptStore>();
        for (int i = 0; i < 4; i++)
        {
            nodes.Add(await OpenAsync(same: true));
        }

        try
        {
            var row = Assert.Single(await nodes[0].UnreportedAsync(2 * 86400, 86400, Ct)).Claim;
            Assert.Equal(new TlsRptClaimRow("node-a", "sending", 5_000), row);
            Assert.Equal(TlsRptClaimDecision.Leave, TlsRptClaim.Decide(row, 5_000 + Lease - 1, Lease));
            Assert.Equal(TlsRptClaimDecision.TakeOver, TlsRptClaim.Decide(row, 5_000 + Lease, Lease));

            // Four nodes see the same expired row and race to take it over: exactly one wins.
            bool[] won = await Task.WhenAll(nodes.Select((n, i) =>
                Task.Run(() => n.TryClaimAsync(86400, "example.com", $"node-{i}", 5_000 + Lease + i, row, Ct))));
            int winner = Assert.Single(Enumerable.Range(0, won.Length), i => won[i]);
            var taken = new TlsRptClaimRow($"node-{winner}", "sending", 5_000 + Lease + winner);
            Assert.Equal(taken, Assert.Single(await crashed.UnreportedAsync(2 * 86400, 86400, Ct)).Claim);

            // The old holder, had it only stalled, can neither renew nor finish (nor release) the claim it lost.
            Assert.False(await crashed.RenewAsync(86400, "example.com", "node-a", 5_000, 9_999_999, Ct));
            await crashed.FinishAsync(86400, "example.com", "node-a", 5_000, null, 9_999_999, Ct);
            await crashed.FinishAsync(86400, "example.com", "node-a", 5_000, "sent", 9_999_999, Ct);
            Assert.Equal(taken, Assert.Single(await crashed.UnreportedAsync(2 * 86400, 86400, Ct)).Claim);

            await nodes[winner].FinishAsync(86400, "example.com", taken.Node, taken.At, "sent", taken.At + 1, Ct);
            Assert.Empty(await crashed.UnreportedAsync(2 * 86400, 86400, Ct));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }
}

public sealed class SqliteTlsRptStoreTests : TlsRptStoreContract, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mc-tlsrpt-" + Guid.NewGuid().ToString("N")[..8]);
    private string _path = "";
    private int _count;

    protected override Task<TlsRptStore> OpenAsync(bool same = false)
    {
        if (!same)
        {
            _path = Path.Combine(_dir, $"{Interlocked.Increment(ref _count)}-{TlsRptStore.SqliteFileName}");
            Directory.CreateDirectory(_dir);
        }

        return Task.FromResult(TlsRptStore.Sqlite(_path));
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
public sealed class PostgresTlsRptStoreTests(PostgresDatabases databases) : TlsRptStoreContract
{
    private string _database = "";

    protected override async Task<TlsRptStore> OpenAsync(bool same = false)
    {
        if (!same)
        {
            _database = await databases.NewAsync("tlsrpt");
        }

        return TlsRptStore.Postgres(_database);
    }
}
