using Xunit;

namespace MailCluster.Ops.Tests;

/// <summary>Readiness evaluates its checks concurrently, each with its own timeout, and names every failing check.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Checks_run_concurrently()
    {
        // Each check waits until the other has started: evaluated one after another, the first would time out.
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ReadinessCheck[] checks =
        [
            new("a", async ct => { first.SetResult(); await second.Task.WaitAsync(ct); return null; }),
            new("b", async ct => { second.SetResult(); await first.Task.WaitAsync(ct); return null; }),
        ];

        var report = await Readiness.EvaluateAsync(checks, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.True(report.Ready, string.Join(", ", report.Failures));
    }

    [Fact]
    public async Task A_hung_check_times_out_alone_and_every_failure_is_named()
    {
        ReadinessCheck[] checks =
        [
            new("hung", ct => Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => (string?)null, TaskScheduler.Default)),
            new("journal", _ => Task.FromResult<string?>("journal unreachable")),
            new("throws", _ => throw new InvalidOperationException("spool closed")),
            new("fine", _ => Task.FromResult<string?>(null)),
        ];

        var report = await Readiness.EvaluateAsync(checks, TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);

        Assert.False(report.Ready);
        Assert.Equal(
            new Dictionary<string, string> { ["hung"] = "no answer within 0s", ["journal"] = "journal unreachable", ["throws"] = "spool closed" },
            report.Failures);
    }
}
