using System.Collections.Concurrent;
using MailCluster.Events.Webhooks;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Prometheus;
using Xunit;

namespace MailCluster.Events.Tests;

/// <summary>
/// What a node starts beside the events store's initializer waits for the schema instead of failing on a missing table
/// (on a fresh node's first start each logged a warning with a stack trace, and the projections restarted after a
/// backoff): the projections' start offset and the webhook delivery.
/// </summary>
public sealed class StoreInitializationTests : IDisposable
{
    private static readonly TimeSpan Failing = TimeSpan.FromMilliseconds(1500); // the old code failed within milliseconds
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("mc-events-init-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Delete(recursive: true);
    }

    [Fact]
    public async Task A_projection_reads_its_start_offset_only_once_the_schema_exists()
    {
        var store = EventStore.Sqlite(Path.Combine(_dir.FullName, "events.db"));
        var offset = new EventProjection(store, null, null, TimeProvider.System).StartOffsetAsync(Ct);

        Assert.NotSame(offset, await Task.WhenAny(offset, Task.Delay(Failing, Ct)));
        await store.InitializeAsync(Ct);

        Assert.Equal(0, await offset.WaitAsync(TimeSpan.FromSeconds(30), Ct));
    }

    [Fact]
    public async Task Webhook_delivery_waits_for_the_schema_without_reporting_the_store_unreachable()
    {
        var store = EventStore.Sqlite(Path.Combine(_dir.FullName, "events.db"));
        var log = new ListLogger();
        using var http = new HttpClient();
        var dispatcher = new WebhookDispatcher(
            store, http, new WebhooksOptions(), new EventMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), TimeProvider.System, log);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var run = dispatcher.RunAsync(stop.Token);
        await Task.Delay(Failing, Ct);
        await store.InitializeAsync(Ct);
        await Task.Delay(Failing, Ct); // a refresh of the (empty) webhook list after the schema came
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.DoesNotContain(log.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Contains(log.Entries, e => e.Text.Contains("Webhook delivery runs on this node", StringComparison.Ordinal));
    }

    private sealed class ListLogger : ILogger<WebhookDispatcher>
    {
        public ConcurrentQueue<(LogLevel Level, string Text)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
