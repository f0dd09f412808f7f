using MailCluster.Events.Webhooks;
using Xunit;

namespace MailCluster.Events.Tests;

public sealed class WebhookRetryTests
{
    private static readonly DateTimeOffset Since = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_first_failure_waits_the_backoff()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), WebhookDispatcher.RetryWait(Since, Since, Window, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void The_wait_never_passes_the_end_of_the_window()
    {
        Assert.Equal(TimeSpan.FromSeconds(3), WebhookDispatcher.RetryWait(Since, Since.AddSeconds(7), Window, TimeSpan.FromSeconds(8)));
        Assert.Equal(TimeSpan.FromMilliseconds(1), WebhookDispatcher.RetryWait(Since, Since.AddSeconds(10).AddMilliseconds(-1), Window, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void A_failure_at_or_after_the_end_of_the_window_gives_up()
    {
        Assert.Null(WebhookDispatcher.RetryWait(Since, Since.AddSeconds(10), Window, TimeSpan.FromSeconds(1)));
        Assert.Null(WebhookDispatcher.RetryWait(Since, Since.AddHours(1), Window, TimeSpan.FromSeconds(1)));
    }
}
