using System.Collections.Concurrent;
using MailCluster.Queue.Bounces;
using MailCluster.Queue.Contracts;
using Xunit;

namespace MailCluster.Events.Tests;

/// <summary>The events' in-memory warm-up maps a reception and a deferred attempt, and runs the bounce classifier on
/// the attempt's reply and on one that no rule matches, so every rule's matcher runs once before the first client.</summary>
public sealed class EventCodeWarmUpTests
{
    [Fact]
    public void The_attempts_reply_and_a_reply_no_rule_matches_are_classified()
    {
        var classifier = new RecordingClassifier(new RegexBounceClassifier(BounceRules.Defaults()));

        new EventCodeWarmUp(classifier).Run();

        Assert.Equal([(451, "4.4.1", "warm-up"), (250, "2.0.0", "warm-up of the bounce rules")], classifier.Calls);
        Assert.Null(classifier.Inner.Classify(250, "2.0.0", "warm-up of the bounce rules")); // no rule matches: all ran
    }

    [Fact]
    public void Without_a_classifier_it_still_runs()
    {
        new EventCodeWarmUp().Run();
    }

    private sealed class RecordingClassifier(IBounceClassifier inner) : IBounceClassifier
    {
        public IBounceClassifier Inner => inner;

        public ConcurrentQueue<(int, string?, string)> Calls { get; } = new();

        public string? Classify(int code, string? enhancedCode, string text)
        {
            Calls.Enqueue((code, enhancedCode, text));
            return inner.Classify(code, enhancedCode, text);
        }
    }
}
