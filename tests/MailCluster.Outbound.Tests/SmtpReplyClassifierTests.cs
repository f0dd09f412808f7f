using MailCluster.Queue.Delivery;

namespace MailCluster.Outbound.Tests;

public sealed class SmtpReplyClassifierTests
{
    [Theory]
    [InlineData(250, "2.0.0 Ok: queued", OutcomeKind.Delivered, "2.0.0", "Ok: queued")]
    [InlineData(451, "4.3.0 try later", OutcomeKind.Transient, "4.3.0", "try later")]
    [InlineData(550, "5.1.1 <bob@example.test>: no such user", OutcomeKind.Permanent, "5.1.1", "<bob@example.test>: no such user")]
    [InlineData(550, "no enhanced code", OutcomeKind.Permanent, "5.0.0", "no enhanced code")]
    [InlineData(421, "5.1.1 mismatched class", OutcomeKind.Transient, "4.0.0", "5.1.1 mismatched class")]
    [InlineData(556, "5.1.10 null MX", OutcomeKind.Permanent, "5.1.10", "null MX")]
    [InlineData(999, "nonsense", OutcomeKind.Permanent, "5.0.0", "nonsense")]
    public void Classifies_by_reply_class(int code, string text, OutcomeKind kind, string enhanced, string rest)
    {
        var outcome = SmtpReplyClassifier.Classify("bob@example.test", code, text);
        Assert.Equal(new RecipientOutcome("bob@example.test", kind, code, enhanced, rest), outcome);
    }
}
