using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using MailCluster.Events.Webhooks;
using MailCluster.Queue;
using MailCluster.Queue.Contracts;
using MailCluster.Queue.Suppression;
using MailCluster.Queue.WarmUp;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace MailCluster.Events;

/// <summary>
/// The delivery events and webhooks feature (issue 16). <see cref="AddEvents"/>: the events store (SQLite
/// <c>&lt;DataDir&gt;/events.db</c> or the cluster's PostgreSQL), its schema and the configured webhooks written at
/// start, <see cref="ISuppressedRecipients"/>, metrics. <see cref="WithEvents"/>: two cluster singletons, the journal
/// projection and the webhook dispatcher. <see cref="MapEventsApi"/>: the routes.
/// </summary>
public static partial class EventsHosting
{
    /// <summary>One client for every webhook; connections are recycled so a receiver's DNS change is seen.</summary>
    private static readonly Lazy<HttpClient> WebhookHttp = new(() => new HttpClient(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan, // each POST has its own (MailCluster:Webhooks:TimeoutSeconds)
    });

    public static IServiceCollection AddEvents(
        this IServiceCollection services, EventsOptions events, WebhooksOptions webhooks, bool postgres, string? connectionString, string dataDir)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(webhooks);
        services.AddSingleton(events);
        services.AddSingleton(webhooks);
        services.AddSingleton(_ => postgres
            ? EventStore.Postgres(connectionString!)
            : EventStore.Sqlite(Path.Combine(Path.GetFullPath(dataDir), "events.db")));
        services.AddSingleton(sp => new EventMetrics(Metrics.WithCustomRegistry(sp.GetRequiredService<CollectorRegistry>())));
        services.AddSingleton<ISuppressedRecipients>(sp => new SuppressedEvents(
            sp.GetRequiredService<EventStore>(), DeliveryQueueHosting.NodeName(sp.GetRequiredService<ActorSystem>())));
        services.AddSingleton<IJournalReaders>(sp => new ProjectionJournalReader(sp.GetRequiredService<EventStore>(), EventProjection.Name, events.Enabled));
        services.AddSingleton<IJournalReaders>(sp => new ProjectionJournalReader(
            sp.GetRequiredService<EventStore>(), SuppressionProjection.Name, sp.GetService<ISuppressionStore>() is not null));
        services.AddHostedService<EventStoreInitializer>();
        services.AddSingleton<ICodeWarmUp>(sp => new EventCodeWarmUp(sp.GetService<IBounceClassifier>()));
        if (events.Enabled)
        {
            services.AddSingleton(DeliveryEventDetails.On);
        }

        return services;
    }

    public static AkkaConfigurationBuilder WithEvents(this AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder = builder.WithSuppressionProjection(provider);
        if (!provider.GetRequiredService<EventsOptions>().Enabled)
        {
            return builder;
        }

        return builder
            .WithSingleton<EventProjector>(
                "delivery-events",
                (_, _, _) => RestartingSingleton.Props(
                    EventProjectorActor.Props(
                        new EventProjection(
                            provider.GetRequiredService<EventStore>(),
                            provider.GetService<IBounceClassifier>(), // registered by the suppression feature, when present
                            provider.GetRequiredService<EventMetrics>(),
                            TimeProvider.System),
                        provider.GetRequiredService<EventStore>(),
                        provider.GetRequiredService<EventsOptions>(),
                        provider.GetService<DirectJournal>()),
                    "projector"),
                new ClusterSingletonOptions(),
                createProxyToo: false)
            .WithSingleton<WebhookDeliverer>(
                "webhooks",
                (_, _, _) =>
                {
                    var dispatcher = new WebhookDispatcher(
                        provider.GetRequiredService<EventStore>(),
                        WebhookHttp.Value,
                        provider.GetRequiredService<WebhooksOptions>(),
                        provider.GetRequiredService<EventMetrics>(),
                        TimeProvider.System,
                        provider.GetRequiredService<ILogger<WebhookDispatcher>>());
                    return RestartingSingleton.Props(WebhookDispatcherActor.Props(dispatcher.RunAsync), "dispatcher");
                },
                new ClusterSingletonOptions(),
                createProxyToo: false);
    }

    /// <summary>The suppression list's automatic entries follow the journal (<see cref="SuppressionProjection"/>) whether or
    /// not delivery events are on; nothing when the suppression feature is not registered.</summary>
    private static AkkaConfigurationBuilder WithSuppressionProjection(this AkkaConfigurationBuilder builder, IServiceProvider provider) =>
        provider.GetService<ISuppressionStore>() is null
            ? builder
            : builder.WithSingleton<SuppressionProjector>(
                "suppression-projection",
                (_, _, _) => RestartingSingleton.Props(
                    SuppressionProjectorActor.Props(new SuppressionProjection(
                        provider.GetRequiredService<ISuppressionStore>(),
                        provider.GetRequiredService<SuppressionRefresher>(),
                        provider.GetRequiredService<EventStore>(),
                        provider.GetRequiredService<IBounceClassifier>(),
                        provider.GetRequiredService<SuppressionOptions>(),
                        TimeProvider.System),
                        provider.GetService<DirectJournal>()),
                    "projector"),
                new ClusterSingletonOptions(),
                createProxyToo: false);

    public static IEndpointRouteBuilder MapEvents(this IEndpointRouteBuilder endpoints, int opsPort) =>
        endpoints.MapEventsApi(opsPort).MapWebhooksApi(opsPort);

    /// <summary>Creates the schema and writes the configured webhooks (<c>config-N</c>), retrying while the database is unreachable.</summary>
    private sealed partial class EventStoreInitializer(EventStore store, WebhooksOptions webhooks, ILogger<EventStoreInitializer> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await store.InitializeAsync(stoppingToken).ConfigureAwait(false);
                    for (var i = 0; i < webhooks.Hooks.Count; i++)
                    {
                        var hook = webhooks.Hooks[i];
                        await store.UpsertWebhookAsync(
                            new WebhookDefinition($"config-{i}", hook.Url!, hook.Secret!, hook.Events, hook.BatchSize, hook.MaxRetrySeconds, WebhookDefinition.ConfigOrigin, DateTimeOffset.UtcNow),
                            null,
                            stoppingToken).ConfigureAwait(false);
                    }

                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogRetry(logger, ex);
                    await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(false);
                }
            }
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "Events store not reachable; retrying")]
        private static partial void LogRetry(ILogger logger, Exception ex);
    }
}
