using MailCluster.Queue.Tables;
using Xunit;

namespace MailCluster.Queue.Tests.Tables;

/// <summary>The schema is created once before the first call; a failed creation is tried again by the next call.</summary>
public sealed class SchemaGateTests
{
    [Fact]
    public async Task Callers_during_a_creation_share_it_and_later_calls_create_nothing()
    {
        var creations = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new SchemaGate(async _ =>
        {
            Interlocked.Increment(ref creations);
            await release.Task;
        });

        var first = gate.EnsureAsync(CancellationToken.None);
        var second = gate.EnsureAsync(CancellationToken.None);
        Assert.False(first.IsCompleted);
        release.SetResult();
        await Task.WhenAll(first, second);
        await gate.EnsureAsync(CancellationToken.None);

        Assert.Equal(1, creations);
    }

    [Fact]
    public async Task A_failed_creation_is_tried_again_by_the_next_call()
    {
        var creations = 0;
        var gate = new SchemaGate(_ => ++creations == 1 ? Task.FromException(new InvalidOperationException("database down")) : Task.CompletedTask);

        await Assert.ThrowsAsync<InvalidOperationException>(() => gate.EnsureAsync(CancellationToken.None));
        await gate.EnsureAsync(CancellationToken.None);
        await gate.EnsureAsync(CancellationToken.None);

        Assert.Equal(2, creations);
    }
}
