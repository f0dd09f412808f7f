using Akka.Hosting;
using Akka.Persistence.Hosting;
using Akka.Persistence.Sql.Hosting;
using LinqToDB;
using MailCluster.Ops;
using MailCluster.Queue.Spool;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace MailCluster.Storage;

/// <summary>
/// The storage feature: the spool store (message bodies) and the Akka journal and snapshot store (the domain
/// queues' events), both on the embedded SQLite files of <c>DataDir</c> or on one PostgreSQL database, with their
/// readiness checks. Register both halves: <see cref="AddStorage"/> on the services, <see cref="WithStorage"/> on Akka.
/// </summary>
public static partial class StorageHosting
{
    /// <summary>Registers <see cref="ISpoolStore"/> and <see cref="ISpoolInventory"/> (one store, schema created at
    /// start, retrying while the database is unreachable) and the <c>journal</c> and <c>spool</c> readiness checks.</summary>
    public static IServiceCollection AddStorage(this IServiceCollection services, StorageOptions storage, string dataDir)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (!storage.IsPostgreSql)
        {
            Directory.CreateDirectory(Path.GetFullPath(dataDir));
            EnableWal(StorageOptions.SqliteJournalPath(dataDir));
            services.AddSingleton<MailCluster.Queue.Contracts.DirectJournal>(new MailCluster.Queue.Contracts.EmbeddedJournal(StorageOptions.SqliteJournalPath(dataDir)));
        }
        else
        {
            services.AddSingleton<MailCluster.Queue.Contracts.DirectJournal>(new MailCluster.Queue.Contracts.PostgresJournal(storage.ConnectionString!));
        }

        services.AddSingleton<ISpoolStore>(sp => SpoolStoreFactory.Create(
            storage.Provider,
            storage.IsPostgreSql ? storage.ConnectionString! : StorageOptions.SqliteSpoolPath(dataDir),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<ISpoolStore>(),
            fileThreshold: storage.SpoolFileThresholdBytes));
        services.AddSingleton(sp => (ISpoolInventory)sp.GetRequiredService<ISpoolStore>());
        services.AddSingleton<IMessageDomains>(_ => new SpoolReferenceReader(storage.IsPostgreSql, storage.IsPostgreSql ? storage.ConnectionString! : StorageOptions.SqliteSpoolPath(dataDir)));
        services.AddHostedService<SpoolInitializer>();
        if (storage.JournalCompactionSeconds > 0)
        {
            services.AddHostedService(sp => new Journal.JournalCompactor(
                new Journal.JournalCompaction(
                    storage.IsPostgreSql,
                    storage.IsPostgreSql ? storage.ConnectionString! : StorageOptions.SqliteJournalPath(dataDir),
                    storage.IsPostgreSql ? Journal.JournalTurns.Inline : new Journal.SqliteJournalTurns(sp.GetRequiredService<Akka.Actor.ActorSystem>)),
                TimeSpan.FromSeconds(storage.JournalCompactionSeconds),
                sp.GetServices<MailCluster.Queue.Contracts.IJournalReaders>(),
                sp.GetRequiredService<ILogger<Journal.JournalCompactor>>()));
        }

        services.AddReadinessCheck("journal", (_, ct) => PingJournalAsync(storage, dataDir, ct));
        services.AddReadinessCheck("spool", async (sp, ct) =>
        {
            await sp.GetRequiredService<ISpoolStore>().PingAsync(ct).ConfigureAwait(false);
            return null;
        });
        return services;
    }

    /// <summary>The journal and snapshot store of Akka.Persistence (Akka.Persistence.Sql) on the same database,
    /// tables created at start.</summary>
    public static AkkaConfigurationBuilder WithStorage(this AkkaConfigurationBuilder builder, StorageOptions storage, string dataDir)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(storage);
        builder.AddHocon(storage.IsPostgreSql ? PostgreSqlJournalWrites : SqliteJournalDispatcher, HoconAddMode.Prepend);
        if (storage.IsPostgreSql)
        {
            return builder.WithSqlPersistence(PostgresSpoolStore.WithAutoPrepare(storage.ConnectionString!), ProviderName.PostgreSQL15, PersistenceMode.Both, autoInitialize: true);
        }

        // By name, not through linq2db DataOptions with a busy-timeout interceptor (Journal/SqliteBusyTimeout): that was
        // tried in session s27 and the quiet soak's p50 rose from 15 to 56 ms over its first five minutes, against a flat
        // 10-12 ms for the previous build (docs/BENCHMARKS.md, "Soak").
        return builder.WithSqlPersistence($"Data Source={StorageOptions.SqliteJournalPath(dataDir)};Pooling=True", ProviderName.SQLiteMS, PersistenceMode.Both, autoInitialize: true);
    }

    /// <summary>The SQLite journal's dispatcher (<see cref="SqliteJournalDispatcher"/>): its one thread.</summary>
    public const string SqliteJournalDispatcherId = "mailcluster.sqlite-journal-dispatcher";

    /// <summary>
    /// SQLite runs every statement synchronously, fsync included, on the calling thread, and takes one writer at a
    /// time. By default the journal's write stream runs on the default dispatcher, i.e. on the .NET thread pool, whose
    /// workers then sit in fsync while SMTP sessions and actors wait for a thread; the pool answers by adding threads
    /// that the 2-core host cannot run. The journal, its write stream and the snapshot store get one thread of their
    /// own instead (one writer is all SQLite allows anyway; the journal compaction's transactions take their turns on
    /// it too, <see cref="Journal.SqliteJournalTurns"/>). Measured in docs/BENCHMARKS.md: +25–30% messages per
    /// second with a new connection per message. PostgreSQL (asynchronous I/O through Npgsql) keeps the defaults.
    /// The journal's writes are <see cref="Journal.SqliteWriteJournal"/>'s: the same rows, with one prepared statement
    /// instead of linq2db's per-batch statement building (its other work stays Akka.Persistence.Sql's; a tagged event's
    /// batch of several rows, none today, is inserted with parameters).
    /// </summary>
    private const string SqliteJournalDispatcher = $$"""
        {{SqliteJournalDispatcherId}} {
          type = ForkJoinDispatcher
          throughput = 100
          dedicated-thread-pool { thread-count = 1 }
        }
        akka.persistence.journal.sql {
          class = "MailCluster.Storage.Journal.SqliteWriteJournal, MailCluster.Storage"
          plugin-dispatcher = {{SqliteJournalDispatcherId}}
          materializer-dispatcher = {{SqliteJournalDispatcherId}}
          prefer-parameters-on-multirow-insert = on
        }
        akka.persistence.snapshot-store.sql.plugin-dispatcher = {{SqliteJournalDispatcherId}}
        """;

    /// <summary>
    /// The journal's writes on PostgreSQL. By default linq2db writes a batch of several events as one INSERT with every
    /// value spelt out as a literal (the serialized event as a hex bytea literal), a statement text that is new every
    /// time: the node formats it and PostgreSQL parses and plans it for each batch. With parameters the text depends
    /// only on the number of rows, so Npgsql's automatic preparation (the connection string of <see
    /// cref="PostgresSpoolStore.WithAutoPrepare"/>, as for the spool; the single-event INSERT is parameterized anyway)
    /// prepares it once per connection and each batch only binds and executes. Durability is unchanged: the same rows
    /// in the same transaction, committed before the journal acknowledges.
    /// </summary>
    internal const string PostgreSqlJournalWrites = """
        akka.persistence.journal.sql {
          prefer-parameters-on-multirow-insert = true
        }
        """;

    /// <summary>
    /// WAL is a property of the database file, so setting it once before Akka opens the journal is enough;
    /// synchronous stays at SQLite's default FULL for every connection, so each commit is fsync'd.
    /// </summary>
    private static void EnableWal(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }

    private static async Task<string?> PingJournalAsync(StorageOptions storage, string dataDir, CancellationToken ct)
    {
        if (storage.IsPostgreSql)
        {
            await using var pg = new NpgsqlConnection(storage.ConnectionString);
            await pg.OpenAsync(ct).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT 1", pg);
            await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
            return null;
        }

        await using var sqlite = new SqliteConnection($"Data Source={StorageOptions.SqliteJournalPath(dataDir)};Mode=ReadWrite");
        await sqlite.OpenAsync(ct).ConfigureAwait(false);
        await using var ping = sqlite.CreateCommand();
        ping.CommandText = "SELECT 1";
        await ping.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return null;
    }

    /// <summary>Creates the spool schema at start, retrying while the database is unreachable.</summary>
    private sealed partial class SpoolInitializer(ISpoolStore spool, ILogger<SpoolInitializer> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await spool.InitializeAsync(stoppingToken).ConfigureAwait(false);
                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogRetry(logger, ex);
                    await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(false);
                }
            }
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "Spool store not reachable; retrying")]
        private static partial void LogRetry(ILogger logger, Exception ex);
    }
}
