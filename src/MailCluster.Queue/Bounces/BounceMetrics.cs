using System.Collections.Concurrent;
using Prometheus;

namespace MailCluster.Queue.Bounces;

/// <summary>
/// Failed delivery outcomes by bounce label (STYLE habit 9): <c>mailcluster_delivery_outcomes_classified_total</c>
/// with <c>status</c> (deferred, bounced) and <c>classification</c>. The label set is bounded by the rules in force
/// (the shipped labels, an operator's file, and Uncategorized), never by a peer's text.
/// </summary>
public sealed class BounceMetrics
{
    /// <summary>A registry-less instance for tests and for nodes that do not wire the registry.</summary>
    public static readonly BounceMetrics Detached = new(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry()));

    private readonly Counter _outcomes;
    private readonly ConcurrentDictionary<(string Status, string Label), Counter.Child> _children = new();

    public BounceMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _outcomes = factory.CreateCounter(
            "mailcluster_delivery_outcomes_classified_total",
            "Per-recipient deferrals and bounces by bounce classification (KumoMTA's labels: InvalidRecipient, QuotaIssues, SpamBlock, ...; Uncategorized when no rule matched).",
            ["status", "classification"]);
    }

    public void Count(string status, string label) =>
        _children.GetOrAdd((status, label), k => _outcomes.WithLabels(k.Status, k.Label)).Inc();
}
