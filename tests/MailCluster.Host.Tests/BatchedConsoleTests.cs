using System.Text;
using System.Text.Json;
using MailCluster.Host.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Xunit;

namespace MailCluster.Host.Tests;

/// <summary>The node's console logger (<see cref="BatchedConsoleLoggerProvider"/>): the framework formatters' text, in
/// order, in batches; errors written at once; everything queued written on dispose.</summary>
public sealed partial class BatchedConsoleTests
{
    private static readonly TimeSpan Never = TimeSpan.FromHours(1);

    [Fact]
    public void Records_queued_within_one_linger_share_a_write_and_keep_their_order()
    {
        var stdout = new MemoryStream();
        var writer = new BatchedConsoleWriter(stdout, new MemoryStream(), Never, flushAt: 512);
        var records = Enumerable.Range(0, 1000).Select(i => $"record {i}\n").ToList();

        foreach (var record in records)
        {
            writer.Enqueue(record, error: false, flush: false);
        }

        writer.Dispose();

        Assert.Equal(string.Concat(records), Encoding.UTF8.GetString(stdout.ToArray()));
        Assert.InRange(writer.Writes, 1, 2); // one write at the 512th record, the rest on dispose
    }

    /// <summary>Akka's shutdown hook logs while the process ends, after the host has disposed the provider.</summary>
    [Fact]
    public void A_record_queued_after_dispose_is_written_at_once_after_those_queued_before()
    {
        var stdout = new SharedStream();
        var writer = new BatchedConsoleWriter(stdout, new MemoryStream(), Never);
        writer.Enqueue("before\n", error: false, flush: false);

        writer.Dispose();
        writer.Enqueue("after\n", error: false, flush: false);

        Assert.Equal("before\nafter\n", stdout.Text);
    }

    [Fact]
    public async Task An_error_is_written_at_once_with_everything_queued_before_it()
    {
        var stdout = new SharedStream();
        var stderr = new SharedStream();
        using var writer = new BatchedConsoleWriter(stdout, stderr, Never);

        writer.Enqueue("info before\n", error: false, flush: false);
        writer.Enqueue("fail: it broke\n", error: true, flush: true);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (stderr.Text.Length == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.Equal("fail: it broke\n", stderr.Text);
        Assert.Equal("info before\n", stdout.Text);
    }

    [Fact]
    public void The_json_formatter_chosen_by_configuration_writes_the_named_properties()
    {
        var (stdout, _) = Log(new() { ["Logging:Console:FormatterName"] = "json" }, logger =>
            Outcome(logger, "Q1", "bob@example.test", "sent"));

        using var record = JsonDocument.Parse(Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        var root = record.RootElement;
        Assert.Equal("MailCluster.DeliveryLog", root.GetProperty("Category").GetString());
        Assert.Equal(1400, root.GetProperty("EventId").GetInt32());
        Assert.Equal("Q1: to=<bob@example.test>, status=sent", root.GetProperty("Message").GetString());
        Assert.Equal("bob@example.test", root.GetProperty("State").GetProperty("Recipient").GetString());
    }

    [Fact]
    public void The_simple_formatter_is_the_default_and_console_filters_and_the_error_threshold_apply()
    {
        var (stdout, stderr) = Log(new()
        {
            ["Logging:Console:LogLevel:Default"] = "Information",
            ["Logging:Console:LogLevel:MailCluster.DeliveryLog"] = "Warning",
            ["Logging:Console:LogToStandardErrorThreshold"] = "Error",
        }, logger =>
        {
            Filtered(logger);
            First(logger, 1);
            Second(logger, 2);
        });

        Assert.Equal("warn: MailCluster.DeliveryLog[1]\n      first 1\n", stdout);
        Assert.Equal("fail: MailCluster.DeliveryLog[2]\n      second 2\n", stderr);
    }

    [Fact]
    public void UseBatchedConsole_replaces_the_framework_console_provider()
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddConsole().UseBatchedConsole());
        using var provider = services.BuildServiceProvider();

        var providers = provider.GetServices<ILoggerProvider>().ToList();

        Assert.Single(providers.OfType<BatchedConsoleLoggerProvider>());
        Assert.Empty(providers.OfType<ConsoleLoggerProvider>());
    }

    /// <summary>Logs through a logger factory configured as the node configures it, with the provider writing to memory;
    /// returns standard output and error once the provider is disposed (everything queued written).</summary>
    private static (string Stdout, string Stderr) Log(Dictionary<string, string?> settings, Action<ILogger> log)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddConfiguration(configuration.GetSection("Logging")).AddConsole(o => o.FormatterName ??= ConsoleFormatterNames.Simple));
        services.Configure<SimpleConsoleFormatterOptions>(o => o.ColorBehavior = LoggerColorBehavior.Disabled);
        using var container = services.BuildServiceProvider();
        var stdout = new SharedStream();
        var stderr = new SharedStream();
        var provider = new BatchedConsoleLoggerProvider(container.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>(),
            container.GetServices<ConsoleFormatter>(), new BatchedConsoleWriter(stdout, stderr, Never));
        using (var factory = new LoggerFactory([provider], container.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>()))
        {
            log(factory.CreateLogger("MailCluster.DeliveryLog"));
        }

        provider.Dispose();
        return (stdout.Text, stderr.Text);
    }

    [LoggerMessage(EventId = 1400, EventName = "DeliveryOutcome", Level = LogLevel.Information, Message = "{QueueId}: to=<{Recipient}>, status={Status}")]
    private static partial void Outcome(ILogger logger, string queueId, string recipient, string status);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "filtered out")]
    private static partial void Filtered(ILogger logger);

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "first {N}")]
    private static partial void First(ILogger logger, int n);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "second {N}")]
    private static partial void Second(ILogger logger, int n);

    /// <summary>A memory stream read while the writer thread writes it.</summary>
    private sealed class SharedStream : MemoryStream
    {
        private readonly Lock _gate = new();

        public string Text
        {
            get
            {
                lock (_gate)
                {
                    return Encoding.UTF8.GetString(ToArray());
                }
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_gate)
            {
                base.Write(buffer, offset, count);
            }
        }
    }
}
