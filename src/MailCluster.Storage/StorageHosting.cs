using Akka.Actor;
using Akka.Cluster;
using MailCluster.Host.Configuration;
using MailCluster.Ops;
using MailCluster.Queue.Spool;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace MailCluster.Host.Composition;

/// <summary>The spool store and the readiness checks of the node's storage and cluster membership.</summary>
public static partial class StorageComposition
{
    public static IServiceCollection AddStorage(this IServiceCollection services, NodeSettings settings)
    {
        if (!settings.IsPostgres)
        {
            Directory.CreateDirectory(Path.GetFullPath(settings.Node.DataDir));
            EnableWal(settings.SqliteJournalPath);
        }

        services.AddSingleton<ISpoolStore>(sp => SpoolStoreFactory.Create(
            settings.Storage.Provider,
            settings.IsPostgres ? settings.Storage.ConnectionString! : settings.SqliteSpoolPath,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<ISpoolStore>()));
        services.AddSingleton(sp => (ISpoolInventory)sp.GetRequiredService<ISpoolStore>());
        services.AddHostedService<SpoolInitializer>();
        services.AddReadinessCheck("cluster", (sp, _) =>
        {
            var member = Cluster.Get(sp.GetRequiredService<ActorSystem>()).SelfMember;
            return Task.FromResult(member.Status == MemberStatus.Up ? null : $"cluster member status is {member.Status}, not Up");
        });
        services.AddReadinessCheck("journal", (_, ct) => PingJournalAsync(settings, ct));
        services.AddReadinessCheck("spool", async (sp, ct) =>
        {
            await sp.GetRequiredService<ISpoolStore>().PingAsync(ct).ConfigureAwait(false);
            return null;
        });
        return services;
    }

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

    private static async Task<string?> PingJournalAsync(NodeSettings settings, CancellationToken ct)
    {
        if (settings.IsPostgres)
        {
            await using var pg = new NpgsqlConnection(settings.Storage.ConnectionString);
            await pg.OpenAsync(ct).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT 1", pg);
            await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
            return null;
        }

        await using var sqlite = new SqliteConnection($"Data Source={settings.SqliteJournalPath};Mode=ReadWrite");
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
