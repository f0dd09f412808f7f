using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace MailCluster.Host.Logging;

/// <summary>
/// The node's console logger: the framework's console formatters (simple, json, systemd, chosen by
/// <c>Logging:Console:FormatterName</c>, with their <c>FormatterOptions</c>) and its options (<c>LogToStandardErrorThreshold</c>;
/// filters under <c>Logging:Console:LogLevel</c> through the "Console" alias), so every record reads exactly as before,
/// but written by a <see cref="BatchedConsoleWriter"/>: records logged within one linger (50 ms) share one write and
/// one wake-up of the writer thread instead of costing one each. Errors and worse are written at once.
/// </summary>
[ProviderAlias("Console")]
public sealed class BatchedConsoleLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly IOptionsMonitor<ConsoleLoggerOptions> _options;
    private readonly Dictionary<string, ConsoleFormatter> _formatters;
    private readonly ConcurrentDictionary<string, BatchedConsoleLogger> _loggers = new(StringComparer.Ordinal);
    private readonly IDisposable? _reload;
    private readonly EventHandler _exiting;
    private readonly UnhandledExceptionEventHandler _crashing;

    public BatchedConsoleLoggerProvider(IOptionsMonitor<ConsoleLoggerOptions> options, IEnumerable<ConsoleFormatter> formatters, BatchedConsoleWriter writer)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(formatters);
        _options = options;
        Writer = writer ?? throw new ArgumentNullException(nameof(writer));
        _formatters = formatters.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Last(), StringComparer.OrdinalIgnoreCase);
        Apply(options.CurrentValue);
        _reload = options.OnChange(Apply);

        // A process that ends without disposing the host (Environment.Exit, an unhandled exception) still writes what
        // is queued: the last records before a crash are the ones an operator needs.
        _exiting = (_, _) => Writer.Dispose();
        _crashing = (_, _) => Writer.Dispose();
        AppDomain.CurrentDomain.ProcessExit += _exiting;
        AppDomain.CurrentDomain.UnhandledException += _crashing;
    }

    internal BatchedConsoleWriter Writer { get; }

    internal ConsoleFormatter Formatter { get; private set; } = null!;

    internal LogLevel ErrorThreshold { get; private set; }

    internal IExternalScopeProvider? Scopes { get; private set; }

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, name => new BatchedConsoleLogger(name, this));

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => Scopes = scopeProvider;

    public void Dispose()
    {
        _reload?.Dispose();
        AppDomain.CurrentDomain.ProcessExit -= _exiting;
        AppDomain.CurrentDomain.UnhandledException -= _crashing;
        Writer.Dispose();
    }

    private void Apply(ConsoleLoggerOptions options)
    {
        // As the framework's provider: the named formatter, or the simple one when the name is unknown or unset.
        Formatter = options.FormatterName is { } name && _formatters.TryGetValue(name, out var named) ? named
            : _formatters.TryGetValue(ConsoleFormatterNames.Simple, out var simple) ? simple
            : throw new InvalidOperationException("No console formatter is registered (AddConsole registers them).");
        ErrorThreshold = options.LogToStandardErrorThreshold;
    }
}

/// <summary>One category's logger: formats on the caller's thread (as the framework's console logger does) and queues
/// the text.</summary>
internal sealed class BatchedConsoleLogger(string category, BatchedConsoleLoggerProvider provider) : ILogger
{
    [ThreadStatic]
    private static StringWriter? t_text;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => provider.Scopes?.Push(state);

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        ArgumentNullException.ThrowIfNull(formatter);
        var text = t_text ??= new StringWriter(CultureInfo.InvariantCulture);
        provider.Formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), provider.Scopes, text);
        var builder = text.GetStringBuilder();
        if (builder.Length == 0)
        {
            return;
        }

        var record = builder.ToString();
        builder.Clear();
        if (builder.Capacity > 1024)
        {
            builder.Capacity = 1024;
        }

        provider.Writer.Enqueue(record, error: logLevel >= provider.ErrorThreshold, flush: logLevel >= LogLevel.Error);
    }
}

public static class BatchedConsoleLogging
{
    /// <summary>Replaces the framework's console logger provider (registered by <c>AddConsole</c>, whose formatters and
    /// options stay) with <see cref="BatchedConsoleLoggerProvider"/> writing to this process's standard output and error.</summary>
    public static ILoggingBuilder UseBatchedConsole(this ILoggingBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddConsole();
        var services = builder.Services;
        for (int i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(ILoggerProvider) && services[i].ImplementationType == typeof(ConsoleLoggerProvider))
            {
                services.RemoveAt(i);
            }
        }

        services.AddSingleton<ILoggerProvider>(sp => new BatchedConsoleLoggerProvider(
            sp.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>(),
            sp.GetServices<ConsoleFormatter>(),
            new BatchedConsoleWriter(Console.OpenStandardOutput(), Console.OpenStandardError(), BatchedConsoleWriter.DefaultLinger)));
        return builder;
    }
}
