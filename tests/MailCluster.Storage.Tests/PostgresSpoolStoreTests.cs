using MailCluster.Queue.Spool;
using MailCluster.Storage;
using Npgsql;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>The spool contract against a real PostgreSQL server (started by the harness for this class).</summary>
public sealed class PostgresSpoolStoreTests(PostgresFixture postgres) : SpoolStoreContract, IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Nodes_releasing_the_last_two_references_at_once_still_delete_the_body()
    {
        // Two stores = two nodes sharing the database; each releases one domain of the same bodies concurrently.
        var database = await NewLocationAsync();
        await using var node1 = await OpenAsync(database);
        await using var node2 = await OpenAsync(database);
        var ids = Enumerable.Range(0, 100).Select(i => $"m{i}").ToList();
        await Task.WhenAll(ids.Select(id => node1.WriteAsync(id, Body(10, 1), ["a.example", "b.example"], Ct)));
        await Task.WhenAll(ids.Select(id => node1.CommitAsync(id, Ct)));

        await Task.WhenAll(ids.SelectMany(id => new[]
        {
            Task.Run(() => node1.ReleaseAsync(id, "a.example", Ct)),
            Task.Run(() => node2.ReleaseAsync(id, "b.example", Ct)),
        }));

        await using var command = new NpgsqlCommand("SELECT (SELECT count(*) FROM mc_spool) + (SELECT count(*) FROM mc_spool_ref)", new NpgsqlConnection(database));
        await command.Connection!.OpenAsync(Ct);
        Assert.Equal(0L, await command.ExecuteScalarAsync(Ct));
        await command.Connection.DisposeAsync();
    }

    [Fact]
    public async Task Batches_of_one_kind_go_set_wise_and_only_a_rejection_goes_op_by_op()
    {
        await using var store = (PostgresSpoolStore)await OpenAsync(await NewLocationAsync());
        var ids = Enumerable.Range(0, 40).Select(i => $"m{i}").ToList();
        await Task.WhenAll(ids.Select(id => Task.Run(() => store.WriteAsync(id, Body(100, id.Length), ["a.example", "b.example"], Ct))));
        await Task.WhenAll(ids.Select(id => Task.Run(() => store.CommitAsync(id, Ct))));
        await Task.WhenAll(ids.Select(id => Task.Run(() => store.ReleaseAsync(id, "a.example", Ct))));
        Assert.Equal(0, store.OneByOneBatches);
        Assert.InRange(store.SetWiseBatches, 3, 120);
        Assert.Equal(SpoolStatus.Committed, (await store.ReadAsync("m7", Ct)).Status);

        await Assert.ThrowsAsync<DuplicateMessageIdException>(() => store.WriteAsync("m7", Body(1, 1), ["c.example"], Ct));

        Assert.Equal(1, store.OneByOneBatches);
        await store.ReleaseAsync("m7", "b.example", Ct);
        Assert.Equal(SpoolStatus.Missing, (await store.ReadAsync("m7", Ct)).Status); // the duplicate added no reference
    }

    [Fact]
    public async Task Concurrent_reads_share_statements_and_each_gets_its_own_entry()
    {
        await using var store = (PostgresSpoolStore)await OpenAsync(await NewLocationAsync());
        var ids = Enumerable.Range(0, 60).Select(i => $"m{i}").ToList();
        await Task.WhenAll(ids.Select(id => store.WriteAsync(id, Body(100 + id.Length, id.Length), ["a.example"], Ct)));
        await Task.WhenAll(ids.Where((_, i) => i % 3 != 0).Select(id => store.CommitAsync(id, Ct))); // every third uncommitted
        var before = store.ReadStatements;

        // 300 reads asked at once: every id four times, and as many of ids never written. The first statements are held
        // until all are asked, as a busy node's deliveries overlap (on a loaded machine this thread could otherwise be
        // slower than the database, and each read would find nothing else waiting).
        var asked = ids.Concat(ids).Concat(ids).Concat(ids).Concat(ids.Select(id => "missing-" + id)).ToList();
        var allAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batches = new System.Collections.Concurrent.ConcurrentQueue<int>();
        store.BeforeReadStatementForTests = reads =>
        {
            batches.Enqueue(reads);
            return allAsked.Task;
        };
        var reads = asked.Select(id => store.ReadAsync(id, Ct)).ToList();
        allAsked.SetResult();
        var entries = await Task.WhenAll(reads);

        for (var n = 0; n < asked.Count; n++)
        {
            var id = asked[n];
            if (id.StartsWith("missing-", StringComparison.Ordinal))
            {
                Assert.Equal(SpoolEntry.Missing, entries[n]);
                continue;
            }

            var i = ids.IndexOf(id);
            Assert.Equal(i % 3 == 0 ? SpoolStatus.Uncommitted : SpoolStatus.Committed, entries[n].Status);
            Assert.Equal(Body(100 + id.Length, id.Length), entries[n].Body.ToArray());
        }

        // Two statements of one read each, then the other 298 in batches of at most 64: 2 + 5.
        Assert.True(batches.Order().SequenceEqual([1, 1, 42, 64, 64, 64, 64]), $"batches: {string.Join(',', batches)}");
        Assert.Equal(7, store.ReadStatements - before);
    }

    [Fact]
    public async Task A_read_asked_with_a_cancelled_token_is_cancelled_and_the_next_is_answered()
    {
        await using var store = (PostgresSpoolStore)await OpenAsync(await NewLocationAsync());
        await store.WriteAsync("m1", Body(10, 1), ["a.example"], Ct);
        await store.CommitAsync("m1", Ct);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.ReadAsync("m1", cancelled.Token));
        Assert.Equal(SpoolStatus.Committed, (await store.ReadAsync("m1", Ct)).Status);
    }

    [Theory]
    [InlineData("Host=db;Username=mc", false)]
    [InlineData("Host=db;Username=mc;No Reset On Close=false", true)] // the operator asked for the reset
    public void Pooled_connections_are_not_reset_unless_the_connection_string_asks(string configured, bool reset)
    {
        var used = new NpgsqlConnectionStringBuilder(PostgresSpoolStore.WithAutoPrepare(configured));

        Assert.Equal(!reset, used.NoResetOnClose);
        Assert.Equal(PostgresSpoolStore.AutoPrepareStatements, used.MaxAutoPrepare);
    }

    [Theory]
    [InlineData("Host=db;Username=mc", PostgresSpoolStore.AutoPrepareStatements)] // not set: the spool prepares its statements
    [InlineData("Host=db;Username=mc;Max Auto Prepare=0", 0)]                     // the operator turned it off (old PgBouncer)
    [InlineData("Host=db;Username=mc;MaxAutoPrepare=4", 4)]                       // Npgsql's other spelling of the key
    public void The_spool_prepares_its_statements_unless_the_connection_string_says_otherwise(string configured, int expected)
    {
        var used = new NpgsqlConnectionStringBuilder(PostgresSpoolStore.WithAutoPrepare(configured));

        Assert.Equal(expected, used.MaxAutoPrepare);
        Assert.Equal("db", used.Host);
        Assert.Equal("mc", used.Username);
    }

    [Fact]
    public async Task Schema_creation_is_safe_when_nodes_start_together()
    {
        var database = await NewLocationAsync();
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresSpoolStore(database)).ToList();
        try
        {
            await Task.WhenAll(stores.Select(s => s.InitializeAsync(Ct)));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Factory_builds_the_postgres_store()
    {
        await using var store = SpoolStoreFactory.Create(SpoolStoreFactory.PostgreSql, await NewLocationAsync());
        Assert.IsType<PostgresSpoolStore>(store);
        await store.InitializeAsync(Ct);
        await store.PingAsync(Ct);
    }

    protected override Task<string> NewLocationAsync() => postgres.NewDatabaseAsync();

    protected override async Task SetCreatedAtAsync(string location, string messageId, DateTimeOffset createdAt)
    {
        await using var connection = new NpgsqlConnection(location);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("UPDATE mc_spool SET created_at = $1 WHERE message_id = $2", connection);
        command.Parameters.Add(new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz, TypedValue = createdAt.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = messageId });
        Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
    }

    protected override async Task<GroupCommitSpoolStore> OpenAsync(string location, GroupCommitOptions? options = null)
    {
        var store = new PostgresSpoolStore(location, logger: null, options);
        await store.InitializeAsync(Ct);
        return store;
    }

    [Fact]
    public Task Spool_references_name_the_domains_still_holding_a_message() => References_name_the_domains_still_holding_a_message(postgres: true);
}
