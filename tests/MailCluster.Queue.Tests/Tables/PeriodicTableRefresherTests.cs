using System.Collections.Concurrent;
using System.Threading.Channels;
using MailCluster.Queue.Tables;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace MailCluster.Queue.Tests.Tables;

/// <summary>The loop every table refresher shares, on a fake clock: schema first (retried), a read at start and every
/// interval, a failed read keeps the last snapshot and warns once per outage, stopping ends the loop.</summary>
public sealed class PeriodicTableRefresherTests
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Reads_at_start_and_again_every_interval_of_the_clock()
    {
        var clock = new FakeTimeProvider();
        using var table = new FakeTable(clock);
        table.Answers.Enqueue(() => 1);
        table.Answers.Enqueue(() => 2);
        await table.StartAsync(CancellationToken.None);

        Assert.Equal(1, await table.Published.Reader.ReadAsync().AsTask().WaitAsync(Patience));
        await table.Initialized.WaitAsync(Patience);
        clock.Advance(Every);
        Assert.Equal(2, await table.Published.Reader.ReadAsync().AsTask().WaitAsync(Patience));
        await table.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_read_that_throws_keeps_the_last_snapshot_and_warns_once_per_outage()
    {
        using var table = new FakeTable(new FakeTimeProvider());
        table.Answers.Enqueue(() => 1);
        table.Answers.Enqueue(() => throw new InvalidOperationException("database down"));
        table.Answers.Enqueue(() => throw new InvalidOperationException("still down"));
        table.Answers.Enqueue(() => 2);

        await table.RefreshAsync(CancellationToken.None);
        await table.RefreshAsync(CancellationToken.None);
        await table.RefreshAsync(CancellationToken.None);
        Assert.Equal([1], Drain(table.Published));
        Assert.Equal(["read failed: database down"], table.Log);

        await table.RefreshAsync(CancellationToken.None);
        Assert.Equal([2], Drain(table.Published));
        Assert.Equal(["read failed: database down", "recovered"], table.Log);
    }

    [Fact]
    public async Task Schema_creation_is_retried_every_interval_before_the_first_read()
    {
        var clock = new FakeTimeProvider();
        using var table = new FakeTable(clock) { InitFailures = 1 };
        table.Answers.Enqueue(() => 7);
        await table.StartAsync(CancellationToken.None);

        Assert.Equal("init retry: no schema yet", await table.LogLines.Reader.ReadAsync().AsTask().WaitAsync(Patience));
        Assert.False(table.Initialized.IsCompleted);
        Assert.Equal(0, table.Reads);

        // The retry's delay starts just after the warning: advance until it has seen the clock move.
        for (var tries = 0; !table.Initialized.IsCompleted; tries++)
        {
            Assert.True(tries < 500, "the schema was not retried after the interval");
            clock.Advance(Every);
            await Task.Delay(10);
        }

        Assert.Equal(7, await table.Published.Reader.ReadAsync().AsTask().WaitAsync(Patience));
        await table.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Stopping_ends_the_loop_so_the_clock_no_longer_drives_reads()
    {
        var clock = new FakeTimeProvider();
        using var table = new FakeTable(clock);
        table.Answers.Enqueue(() => 1);
        await table.StartAsync(CancellationToken.None);
        Assert.Equal(1, await table.Published.Reader.ReadAsync().AsTask().WaitAsync(Patience));

        await table.StopAsync(CancellationToken.None);
        Assert.True(table.ExecuteTask!.IsCompleted);
        clock.Advance(Every * 5);
        Assert.Equal(1, table.Reads);

        table.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => table.RefreshAsync(CancellationToken.None));
    }

    private static List<int> Drain(Channel<int> channel)
    {
        var items = new List<int>();
        while (channel.Reader.TryRead(out var item))
        {
            items.Add(item);
        }

        return items;
    }

    /// <summary>A table whose reads answer from <see cref="Answers"/> in turn (and 0 once they run out).</summary>
    private sealed class FakeTable(TimeProvider clock) : PeriodicTableRefresher<int>(clock, Every)
    {
        public ConcurrentQueue<Func<int>> Answers { get; } = new();

        public Channel<int> Published { get; } = Channel.CreateUnbounded<int>();

        public Channel<string> LogLines { get; } = Channel.CreateUnbounded<string>();

        public List<string> Log { get; } = [];

        public int InitFailures { get; set; }

        public int Reads { get; private set; }

        protected override Task InitializeStoreAsync(CancellationToken cancellationToken) =>
            InitFailures-- > 0 ? Task.FromException(new InvalidOperationException("no schema yet")) : Task.CompletedTask;

        protected override Task<int> ReadAsync(CancellationToken cancellationToken)
        {
            Reads++;
            return Task.FromResult(Answers.TryDequeue(out var answer) ? answer() : 0);
        }

        protected override void Publish(int snapshot) => Published.Writer.TryWrite(snapshot);

        protected override void LogInitRetry(Exception exception) => Write($"init retry: {exception.Message}");

        protected override void LogReadFailed(Exception exception) => Write($"read failed: {exception.Message}");

        protected override void LogRecovered() => Write("recovered");

        private void Write(string line)
        {
            Log.Add(line);
            LogLines.Writer.TryWrite(line);
        }
    }
}
