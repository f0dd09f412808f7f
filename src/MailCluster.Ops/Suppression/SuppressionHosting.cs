using MailCluster.Queue.Bounces;
using MailCluster.Queue.Contracts;
using MailCluster.Queue.Suppression;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;

namespace MailCluster.Ops.Suppression;

/// <summary>
/// The bounce classification and suppression feature (issue 16): registers <see cref="IBounceClassifier"/> (the rules
/// in force), <see cref="DeliveryClassification"/> (which the domain queues pick up), the cluster table of the
/// configured provider with its refresher, <see cref="SuppressionList"/> (the RCPT and HTTP-injection check),
/// and, unless the delivery events register their own, a mail-log <see cref="ISuppressedRecipients"/>. Hard bounces
/// reach the list from the journal (the suppression projection of MailCluster.Events), not from here.
/// </summary>
public static class SuppressionHosting
{
    /// <summary>The suppression table lives in the access database's file on the embedded single node.</summary>
    public const string SqliteFileName = MailCluster.Ops.Access.TokenStoreFactory.SqliteFileName;

    /// <param name="classifier">The classifier built at start-up from the rules in force (<see cref="BounceHosting.Load"/>).</param>
    public static IServiceCollection AddSuppression(
        this IServiceCollection services, IBounceClassifier classifier, SuppressionOptions options, bool postgres, string? connectionString, string dataDir)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(classifier);
        services.AddSingleton(options);
        services.AddSingleton(sp => new BounceMetrics(Metrics.WithCustomRegistry(sp.GetRequiredService<CollectorRegistry>())));
        services.AddSingleton<ISuppressionStore>(_ => postgres
            ? new PostgresSuppressionStore(connectionString ?? "")
            : new SqliteSuppressionStore(Path.Combine(Path.GetFullPath(dataDir), SqliteFileName)));
        services.AddSingleton<SuppressionList>();
        services.AddSingleton<SuppressionRefresher>();
        services.AddHostedService(sp => sp.GetRequiredService<SuppressionRefresher>());
        services.AddSingleton(sp => new DeliveryClassification(sp.GetRequiredService<IBounceClassifier>(), sp.GetRequiredService<BounceMetrics>()));
        services.TryAddSingleton<ISuppressedRecipients, MailLogSuppressedRecipients>();
        return services;
    }
}
