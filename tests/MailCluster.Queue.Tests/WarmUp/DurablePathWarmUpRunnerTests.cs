using System.Collections.Concurrent;
using MailCluster.Queue.Spool;
using MailCluster.Queue.WarmUp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace MailCluster.Queue.Tests.WarmUp;

/// <summary>
/// The warm-up's hosted service holds the node's start (its listeners) until the stores have run their first
/// statements, but never for ever and never by failing the start: a store that fails or does not answer is logged and
/// the node starts without it. The stores themselves are in Storage.Tests (DurablePathWarmUpTests, real SQLite and
/// PostgreSQL); here the spool is a recording fake.
/// </summary>
public sealed class DurablePathWarmUpRunnerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Writes_one_uncommitted_body_of_the_reserved_domain_then_deletes_it()
    {
        var spool = new RecordingSpool();
        var log = new ListLogger();

        await Runner(spool, log, TimeSpan.FromSeconds(10)).StartAsync(Ct);

        var calls = spool.Calls.ToArray();
        Assert.Equal(2, calls.Length);
        Assert.Equal(("write", DurablePathWarmUp.Domain), (calls[0].Call, calls[0].Domain));
        Assert.Equal("delete", calls[1].Call);
        Assert.Equal(calls[0].MessageId, calls[1].MessageId);
        var done = Assert.Single(log.Entries);
        Assert.Equal(LogLevel.Information, done.Level);
        Assert.Contains("spool", done.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Where_the_store_writes_a_body_committed_at_once_it_warms_that_write_and_the_release()
    {
        var spool = new RecordingSpool { AtOnce = true };
        var log = new ListLogger();

        await Runner(spool, log, TimeSpan.FromSeconds(10)).StartAsync(Ct);

        var calls = spool.Calls.ToArray();
        Assert.Equal(["write-committed", "release", "delete"], calls.Select(c => c.Call));
        Assert.Equal([DurablePathWarmUp.Domain, DurablePathWarmUp.Domain, null], calls.Select(c => c.Domain));
        Assert.Single(calls.Select(c => c.MessageId).Distinct());
        Assert.Equal(LogLevel.Information, Assert.Single(log.Entries).Level);
    }

    [Fact]
    public async Task A_failing_store_is_logged_and_the_start_goes_on()
    {
        var spool = new RecordingSpool { Write = () => throw new InvalidOperationException("database is down (test)") };
        var log = new ListLogger();

        await Runner(spool, log, TimeSpan.FromSeconds(10)).StartAsync(Ct);

        Assert.Equal(["write", "delete"], spool.Calls.Select(c => c.Call));
        var failed = Assert.Single(log.Entries);
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Contains("database is down (test)", failed.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_that_never_answers_holds_the_start_only_until_the_limit()
    {
        var never = new TaskCompletionSource(); // ignores cancellation too: the limit must not depend on the store
        var spool = new RecordingSpool { Write = () => never.Task };
        var log = new ListLogger();

        var start = Runner(spool, log, TimeSpan.FromMilliseconds(300)).StartAsync(Ct);
        var finished = await Task.WhenAny(start, Task.Delay(TimeSpan.FromSeconds(30), Ct));

        Assert.Same(start, finished);
        await start;
        var failed = Assert.Single(log.Entries);
        Assert.Equal(LogLevel.Warning, failed.Level);
        never.SetResult();
    }

    [Fact]
    public async Task A_stop_during_the_warm_up_ends_the_start_quietly()
    {
        var never = new TaskCompletionSource();
        var spool = new RecordingSpool { Write = () => never.Task };
        var log = new ListLogger();
        using var stopping = new CancellationTokenSource();

        var start = Runner(spool, log, TimeSpan.FromSeconds(30)).StartAsync(stopping.Token);
        await stopping.CancelAsync();
        var finished = await Task.WhenAny(start, Task.Delay(TimeSpan.FromSeconds(30), Ct));

        Assert.Same(start, finished);
        await start; // no exception: a stop while starting is not a failed start
        Assert.Empty(log.Entries);
        never.SetResult();
    }

    [Fact]
    public async Task The_features_code_warm_ups_run_before_the_start_goes_on_and_a_failing_one_is_logged()
    {
        var ran = new RecordingCode();
        var services = new ServiceCollection()
            .AddSingleton<ISpoolStore>(new RecordingSpool())
            .AddSingleton<ICodeWarmUp>(ran)
            .BuildServiceProvider();
        var log = new ListLogger();

        await new DurablePathWarmUpHosting.Runner(services, journal: false, spool: true, TimeSpan.FromSeconds(10), log).StartAsync(Ct);

        Assert.Equal(1, ran.Runs);
        var done = Assert.Single(log.Entries);
        Assert.Equal(LogLevel.Information, done.Level);
        Assert.Contains("in-memory code", done.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("in-memory code  ms", done.Text, StringComparison.Ordinal); // timed, not blank

        var failing = new ServiceCollection()
            .AddSingleton<ISpoolStore>(new RecordingSpool())
            .AddSingleton<ICodeWarmUp>(new RecordingCode { Fails = true })
            .BuildServiceProvider();
        var failedLog = new ListLogger();
        await new DurablePathWarmUpHosting.Runner(failing, journal: false, spool: true, TimeSpan.FromSeconds(10), failedLog).StartAsync(Ct);
        var failed = Assert.Single(failedLog.Entries);
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Contains("code warm-up failed (test)", failed.Text, StringComparison.Ordinal);
    }

    private static DurablePathWarmUpHosting.Runner Runner(ISpoolStore spool, ILogger<DurablePathWarmUpHosting.Runner> log, TimeSpan limit) =>
        new(new ServiceCollection().AddSingleton(spool).BuildServiceProvider(), journal: false, spool: true, limit, log);

    private sealed class RecordingCode : ICodeWarmUp
    {
        public int Runs { get; private set; }

        public bool Fails { get; init; }

        public void Run()
        {
            Runs++;
            if (Fails)
            {
                throw new InvalidOperationException("code warm-up failed (test)");
            }
        }
    }

    private sealed class RecordingSpool : ISpoolStore
    {
        public Func<Task> Write { get; init; } = () => Task.CompletedTask;

        public bool AtOnce { get; init; }

        public ConcurrentQueue<(string Call, string MessageId, string? Domain)> Calls { get; } = new();

        public Task WriteAsync(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains, CancellationToken cancellationToken)
        {
            Calls.Enqueue(("write", messageId, Assert.Single(domains)));
            return Write();
        }

        public bool WritesCommittedAtOnce(int length) => AtOnce;

        public Task WriteCommittedAsync(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains, CancellationToken cancellationToken)
        {
            Calls.Enqueue(("write-committed", messageId, Assert.Single(domains)));
            return Write();
        }

        public Task DeleteUncommittedAsync(string messageId, CancellationToken cancellationToken)
        {
            Calls.Enqueue(("delete", messageId, null));
            return Task.CompletedTask;
        }

        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task CommitAsync(string messageId, CancellationToken cancellationToken) => throw new InvalidOperationException("the warm-up never commits");

        public Task<SpoolEntry> ReadAsync(string messageId, CancellationToken cancellationToken) => Task.FromResult(SpoolEntry.Missing);

        public Task ReleaseAsync(string messageId, string domain, CancellationToken cancellationToken)
        {
            Calls.Enqueue(("release", messageId, domain));
            return Task.CompletedTask;
        }

        public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class ListLogger : ILogger<DurablePathWarmUpHosting.Runner>
    {
        public ConcurrentQueue<(LogLevel Level, string Text)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
