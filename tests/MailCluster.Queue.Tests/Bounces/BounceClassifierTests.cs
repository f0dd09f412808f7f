using MailCluster.Queue.Bounces;
using Xunit;

namespace MailCluster.Queue.Tests.Bounces;

/// <summary>The shipped rules against replies as real servers send them, operator files merged over them, and files
/// that must be refused at start-up with the label and rule named.</summary>
public sealed class BounceClassifierTests
{
    private static readonly RegexBounceClassifier Defaults = new(BounceRules.Defaults());

    /// <summary>One real-world-looking reply per shipped label (texts in the style of Gmail, Microsoft 365, Yahoo,
    /// Postfix, Exim, and MailCluster's own DNS and connection outcomes with code 0).</summary>
    public static TheoryData<string, int, string, string> Replies() => new()
    {
        { "InvalidRecipient", 550, "5.1.1", "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser" },
        { "InvalidRecipient", 550, "", "<nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table" },
        { "BadDomain", 0, "5.1.2", "domain nowhere.example does not exist (NXDOMAIN)" },
        { "BadDomain", 556, "5.1.10", "domain example.net does not accept mail (null MX, RFC 7505)" },
        { "InactiveMailbox", 550, "5.2.1", "The email account that you tried to reach is disabled. https://support.google.com/mail/?p=DisabledUser" },
        { "InactiveMailbox", 554, "", "delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0] - mta1; account has been deactivated" },
        { "QuotaIssues", 452, "4.2.2", "The recipient's inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp" },
        { "QuotaIssues", 552, "", "Mailbox is full / Blocks limit exceeded / Inode limit exceeded" },
        { "SpamBlock", 550, "5.7.1", "Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.7" },
        { "SpamBlock", 550, "5.7.606", "Access denied, banned sending IP [192.0.2.7]. To request removal from this list please visit https://sender.office.com/" },
        { "SpamContent", 550, "5.7.1", "Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. Message looks like spam" },
        { "VirusRelated", 554, "5.7.1", "Message rejected: virus found (Eicar-Test-Signature)" },
        { "ProhibitedAttachment", 552, "5.7.0", "This message was blocked because its content presents a potential security issue. Attachment file type not allowed" },
        { "AuthenticationFailed", 550, "5.7.26", "Unauthenticated email from example.com is not accepted due to domain's DMARC policy." },
        { "AuthenticationFailed", 550, "5.7.23", "The message was rejected because of Sender Policy Framework violation" },
        { "InvalidSender", 553, "5.1.8", "<bounce@nowhere.example>: Sender address rejected: Domain not found" },
        { "RelayingIssues", 554, "5.7.1", "<x@elsewhere.example>: Relay access denied" },
        { "RoutingErrors", 554, "5.4.6", "Hop count exceeded - possible mail loop" },
        { "DNSFailure", 0, "4.4.3", "DNS lookup of MX for example.com failed: Query 1234 => example.com IN MX on 127.0.0.1:53 timed out" },
        { "NoAnswerFromHost", 421, "", "Timeout waiting for data from client" },
        { "BadConnection", 0, "4.4.2", "connection to mx.example.com[192.0.2.1]:25 lost: Connection reset by peer" },
        { "ContentRelated", 552, "5.3.4", "Message size exceeds fixed maximum message size" },
        { "BadConfiguration", 554, "5.3.5", "System incorrectly configured" },
        { "ProtocolErrors", 500, "5.5.2", "Syntax error, command unrecognized" },
        { "PolicyRelated", 550, "5.7.1", "Message rejected per local policy" },
        { "PolicyRelated", 421, "4.7.0", "Too many messages from your IP, slow down" },
        { "TransientFailure", 451, "4.3.0", "try again later" },
        { "TransientFailure", 450, "", "Greylisted, please try again in 300 seconds" },
    };

    [Theory]
    [MemberData(nameof(Replies))]
    public void Each_shipped_label_is_given_to_a_real_world_reply(string label, int code, string enhanced, string text) =>
        Assert.Equal(label, Defaults.Classify(code, enhanced, text));

    [Fact]
    public void Every_shipped_label_has_a_reply_in_the_corpus_above()
    {
        var covered = Replies().Select(r => (string)r.Data.Item1).ToHashSet();
        Assert.DoesNotContain(Defaults.Labels, l => !covered.Contains(l));
        Assert.Contains("InvalidRecipient", Defaults.Labels);
    }

    [Fact]
    public void A_reply_no_rule_knows_has_no_label() =>
        Assert.Null(Defaults.Classify(250, "2.0.0", "ok queued"));

    [Fact]
    public void An_operator_file_is_tried_first_and_replaces_only_the_labels_it_defines()
    {
        var file = BounceRules.Parse("""{"rules": {"InvalidRecipient": ["mailbox gone"], "ListUnsubscribed": ["unsubscribed"]}}""", "ops.json");
        var classifier = new RegexBounceClassifier(BounceRules.Merge(BounceRules.Defaults(), file, replaceDefaults: false));

        Assert.Equal("ListUnsubscribed", classifier.Classify(550, "5.1.1", "user unsubscribed"));
        Assert.Equal("InvalidRecipient", classifier.Classify(550, "5.0.0", "that mailbox gone away"));
        Assert.Null(classifier.Classify(550, "5.1.1", "nothing else matches"));
        Assert.Equal("QuotaIssues", classifier.Classify(552, "5.2.2", "mailbox full"));
    }

    [Fact]
    public void An_operator_file_can_replace_every_shipped_rule()
    {
        var file = BounceRules.Parse("""{"rules": {"Mine": ["^550 "]}}""", "ops.json");
        var classifier = new RegexBounceClassifier(BounceRules.Merge(BounceRules.Defaults(), file, replaceDefaults: true));

        Assert.Equal("Mine", classifier.Classify(550, "5.1.1", "user unknown"));
        Assert.Null(classifier.Classify(552, "5.2.2", "mailbox full"));
    }

    [Theory]
    [InlineData("""{"rules": {"Bad": ["(unclosed"]}}""", "rules.Bad[0] '(unclosed'")]
    [InlineData("""{"rules": {"Backref": ["ok", "(a)\\1"]}}""", "rules.Backref[1]")]
    [InlineData("""{"rules": {"Empty": [""]}}""", "rules.Empty[0]")]
    [InlineData("""{"rules": {"NotAList": "x"}}""", "rules.NotAList")]
    [InlineData("""{"rules": {"bad label": ["x"]}}""", "rules.bad label")]
    [InlineData("""{"labels": {}}""", "must be a JSON object")]
    [InlineData("""{"rules": {""", "not valid JSON")]
    public void A_bad_file_is_refused_naming_the_file_the_label_and_the_rule(string json, string named)
    {
        var error = Assert.Throws<BounceRulesException>(() => BounceRules.Parse(json, "/etc/mc/bounces.json"));
        Assert.StartsWith("/etc/mc/bounces.json: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pathological_pattern_cannot_hang_classification()
    {
        // (a+)+$ takes exponential time under a backtracking engine on "aaaa...!"; the non-backtracking engine is linear.
        var classifier = new RegexBounceClassifier(BounceRules.Parse("""{"rules": {"Evil": ["(a+)+$"], "Next": ["!"]}}""", "evil.json"));
        var reply = new string('a', 2000) + "!"; // under the 2048-character cut, so the '!' is matched
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var label = classifier.Classify(550, "5.0.0", reply);

        Assert.Equal("Next", label);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"classification took {watch.Elapsed}");
    }
}
