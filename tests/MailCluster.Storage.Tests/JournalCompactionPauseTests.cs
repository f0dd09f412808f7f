using MailCluster.Storage.Journal;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>The compaction's pause between batches: it holds the journal's writer at most a quarter of a pass.</summary>
public sealed class JournalCompactionPauseTests
{
    [Theory]
    [InlineData(0, 10)]
    [InlineData(2, 10)]
    [InlineData(4, 12)]
    [InlineData(40, 120)]
    [InlineData(1000, 3000)]
    public void Pauses_three_times_the_batch_and_at_least_the_minimum(int batchMs, int pauseMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(pauseMs), JournalCompaction.PauseAfter(TimeSpan.FromMilliseconds(batchMs)));

    [Fact]
    public void The_writer_share_stays_at_most_a_quarter()
    {
        foreach (var ms in new[] { 1, 3, 10, 33, 250, 5000 })
        {
            var batch = TimeSpan.FromMilliseconds(ms);
            Assert.True(batch / (batch + JournalCompaction.PauseAfter(batch)) <= 0.25);
        }
    }
}
