using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;
using Xunit;

namespace MailCluster.Queue.Tests.State;

public class DsnPolicyTests
{
    private static readonly DeliveryResult ToMx = new([], "mx", null, RemoteOffersDsn: false);
    private static readonly DeliveryResult ToDsnMx = new([], "mx", null, RemoteOffersDsn: true);
    private static readonly DeliveryResult ToMailbox = new([], "lmtp", null, FinalDelivery: true);
    private static readonly TimeSpan Off = TimeSpan.Zero;

    private static string? Report(string sender, string? notify, RecipientResultKind kind, DeliveryResult? result = null,
        bool warned = false, double ageHours = 0, double warnHours = 0) =>
        DsnPolicy.ReportFor(sender, notify, kind, warned, TimeSpan.FromHours(ageHours), TimeSpan.FromHours(warnHours), result ?? ToMx);

    [Fact]
    public void Failures_report_failed_by_default_and_with_NOTIFY_FAILURE()
    {
        Assert.Equal("failed", Report("a@x.test", null, RecipientResultKind.Failed));
        Assert.Equal("failed", Report("a@x.test", null, RecipientResultKind.Expired));
        Assert.Equal("failed", Report("a@x.test", "FAILURE,DELAY", RecipientResultKind.Failed));
        Assert.Null(Report("a@x.test", "SUCCESS", RecipientResultKind.Failed));
    }

    [Fact]
    public void Never_for_the_null_sender_or_NOTIFY_NEVER()
    {
        Assert.Null(Report("", null, RecipientResultKind.Failed));
        Assert.Null(Report("a@x.test", "NEVER", RecipientResultKind.Failed));
        Assert.Null(Report("", "SUCCESS", RecipientResultKind.Delivered, ToMailbox));
    }

    [Fact]
    public void Success_only_when_asked_delivered_relayed_or_passed_on()
    {
        Assert.Null(Report("a@x.test", null, RecipientResultKind.Delivered));
        Assert.Equal("relayed", Report("a@x.test", "SUCCESS", RecipientResultKind.Delivered, ToMx));
        Assert.Equal("delivered", Report("a@x.test", "SUCCESS,FAILURE", RecipientResultKind.Delivered, ToMailbox));
        Assert.Null(Report("a@x.test", "SUCCESS", RecipientResultKind.Delivered, ToDsnMx));
    }

    [Fact]
    public void Delay_warning_once_after_the_configured_age()
    {
        Assert.Null(Report("a@x.test", null, RecipientResultKind.Deferred, ageHours: 10, warnHours: 0));
        Assert.Null(Report("a@x.test", null, RecipientResultKind.Deferred, ageHours: 3, warnHours: 4));
        Assert.Equal("delayed", Report("a@x.test", null, RecipientResultKind.Deferred, ageHours: 4, warnHours: 4));
        Assert.Null(Report("a@x.test", null, RecipientResultKind.Deferred, warned: true, ageHours: 5, warnHours: 4));
        Assert.Null(Report("a@x.test", "FAILURE", RecipientResultKind.Deferred, ageHours: 5, warnHours: 4));
        Assert.Equal(Off, TimeSpan.Zero);
    }
}
